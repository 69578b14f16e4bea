from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from guardians.contact_details import MAX_PHONE_INPUT, PhoneInvalid, PostcodeInvalid, phone_to_e164, postcode_check
from guardians.models import GuardianLink, Relationship, School, Student, User


class PhoneField(serializers.CharField):
    """Any way of writing a valid number (Australian without +61); stored and returned as E.164."""

    def __init__(self, **kwargs):
        kwargs.update(required=False, allow_blank=True, max_length=MAX_PHONE_INPUT)
        kwargs.setdefault("help_text", "E.164 in answers (`+61412345678`); `0412 345 678` is read as Australian. Blank for none.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return phone_to_e164(super().to_internal_value(data))
        except PhoneInvalid as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class PostcodeField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.update(required=False, allow_blank=True, max_length=4)
        kwargs.setdefault("help_text", "An Australian postcode, four digits (0200-0299, 0800-9999). Blank for none.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return postcode_check(super().to_internal_value(data))
        except PostcodeInvalid as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from None


class GuardianRegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, write_only=True)
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    phone = PhoneField()
    postcode = PostcodeField()

    def validate_email(self, value):
        value = value.lower()
        if User.objects.filter(email=value).exists():
            raise serializers.ValidationError("An account with this email already exists.", code="email_taken")
        return value

    def validate(self, attrs):
        probe = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            password_validation.validate_password(attrs["password"], user=probe)
        except DjangoValidationError as exc:  # name the field, or clients get `field: null`
            raise serializers.ValidationError({"password": get_error_detail(exc)}) from None
        return attrs


class SchoolOutput(serializers.ModelSerializer):
    # Declared, not derived: a derived field's range depends on the database backend,
    # and the committed schema must not.
    week_starts_on = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday ... 6 = Sunday")

    class Meta:
        model = School
        fields = ["id", "name", "code", "time_zone", "canteen_cutoff", "week_starts_on", "postcode"]


class StudentOutput(serializers.ModelSerializer):
    school = SchoolOutput()
    year_level = serializers.IntegerField(min_value=0, max_value=12, help_text="0 = Kindergarten")

    class Meta:
        model = Student
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "year_level",
            "roll_class",
            "student_number",
            "school",
        ]


class StaffRoleOutput(serializers.Serializer):
    school = SchoolOutput()
    roles = serializers.ListField(child=serializers.CharField())


class GuardianProfileOutput(serializers.Serializer):
    postcode = serializers.CharField()
    notify_by_email = serializers.BooleanField()
    notify_by_push = serializers.BooleanField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    guardian = GuardianProfileOutput(allow_null=True, help_text="Present when the user is a guardian.")
    staff = StaffRoleOutput(allow_null=True, help_text="Present when the user is school staff.")
    is_program_administrator = serializers.BooleanField()


class MeUpdateInput(serializers.Serializer):
    first_name = serializers.CharField(max_length=80, required=False)
    last_name = serializers.CharField(max_length=80, required=False)
    phone = PhoneField()
    postcode = PostcodeField()
    notify_by_email = serializers.BooleanField(required=False)
    notify_by_push = serializers.BooleanField(required=False)


class LinkCodeOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Shown once; only a hash is kept.")
    kind = serializers.CharField()
    student_id = serializers.IntegerField()
    school_code = serializers.CharField()
    grants_money = serializers.BooleanField()
    grants_consent = serializers.BooleanField()
    expires_at = serializers.DateTimeField()


class InviteInput(serializers.Serializer):
    grants_money = serializers.BooleanField(default=True)
    grants_consent = serializers.BooleanField(default=True)


class LinkRedeemInput(serializers.Serializer):
    school_code = serializers.CharField(max_length=32)
    code = serializers.CharField(max_length=32)
    relationship = serializers.ChoiceField(choices=Relationship.choices, default=Relationship.PARENT)


class LinkOutput(serializers.ModelSerializer):
    guardian_id = serializers.IntegerField()
    guardian_name = serializers.CharField(source="guardian.user.full_name")
    student_id = serializers.IntegerField()
    student_name = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()

    class Meta:
        model = GuardianLink
        fields = [
            "id",
            "guardian_id",
            "guardian_name",
            "student_id",
            "student_name",
            "relationship",
            "can_manage_money",
            "can_give_consent",
            "origin",
            "created_at",
            "revoked_at",
            "is_active",
        ]

    def get_student_name(self, link) -> str:
        return f"{link.student.first_name} {link.student.last_name}"


class TerminalOutput(serializers.Serializer):
    terminal_id = serializers.IntegerField(source="pk")
    label = serializers.CharField()
    merchant_id = serializers.IntegerField()
    merchant_name = serializers.CharField(source="merchant.name")
    merchant_categories = serializers.ListField(child=serializers.CharField(), source="merchant.categories")
