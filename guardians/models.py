"""People and the links between them: schools, students, guardians, staff."""

import uuid
from datetime import time
from zoneinfo import available_timezones

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core import clock


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in with email and password: guardians, school staff, program administrators."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    phone = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    # Django admin access only; school roles live in StaffMember.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    def __str__(self):
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Weekday(models.IntegerChoices):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class School(models.Model):
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=32, unique=True, help_text="Short public code guardians type when linking.")
    time_zone = models.CharField(max_length=64, default="Australia/Sydney", validators=[validate_time_zone])
    canteen_cutoff = models.TimeField(default=time(8, 30))
    # Caps' "week" starts on this day, in the school's time zone.
    week_starts_on = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    postcode = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self):
        return self.name


class Term(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=40)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["starts_on"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="term_ends_after_start")]

    def __str__(self):
        return f"{self.school.code} {self.name}"


class ClosureDay(models.Model):
    """A day inside a term when the school is closed (public holiday, pupil-free day)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="closure_days")
    date = models.DateField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="closure_day_unique")]


class Student(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    # 0 is Kindergarten, 1-12 are Years 1-12.
    year_level = models.PositiveSmallIntegerField()
    roll_class = models.CharField(max_length=20, blank=True)
    student_number = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "student_number"], name="student_number_unique_per_school"),
            models.CheckConstraint(condition=Q(year_level__lte=12), name="student_year_level_range"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def cashier_name(self) -> str:
        """What a cashier may see: first name and last initial."""
        return f"{self.first_name} {self.last_name[:1]}."


class Guardian(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="guardian")
    postcode = models.CharField(max_length=4, blank=True)
    notify_by_email = models.BooleanField(default=True)
    notify_by_push = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self):
        return self.user.full_name or self.user.email


class Relationship(models.TextChoices):
    PARENT = "parent"
    STEP_PARENT = "step_parent"
    GRANDPARENT = "grandparent"
    CARER = "carer"
    OTHER = "other"


class GuardianLink(models.Model):
    """A guardian's authority over one student. Revoked links are kept as history."""

    class Origin(models.TextChoices):
        SCHOOL_CODE = "school_code"
        INVITE = "invite"
        STAFF = "staff"

    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="links")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardian_links")
    relationship = models.CharField(max_length=20, choices=Relationship.choices, default=Relationship.PARENT)
    can_manage_money = models.BooleanField(default=True)
    can_give_consent = models.BooleanField(default=True)
    origin = models.CharField(max_length=20, choices=Origin.choices)
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "student"], condition=Q(revoked_at__isnull=True), name="one_active_link_per_pair"
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LinkCode(models.Model):
    """A single-use, expiring code that creates a GuardianLink when redeemed.

    Only a hash of the code is stored; the plain code is shown once to whoever issued it.
    """

    class Kind(models.TextChoices):
        SCHOOL = "school", "Issued by the school"
        INVITE = "invite", "Invitation from a linked guardian"

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="link_codes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    grants_money = models.BooleanField(default=True)
    grants_consent = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(Guardian, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class StaffRole(models.TextChoices):
    ADMIN = "admin"
    CANTEEN = "canteen"
    TEACHER = "teacher"
    FINANCE = "finance"


class StaffMember(models.Model):
    """A user's roles at one school."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="staff")
    roles = models.JSONField(default=list, help_text="Any of: admin, canteen, teacher, finance.")
    created_at = models.DateTimeField(default=clock.now)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def clean(self):
        unknown = set(self.roles) - set(StaffRole.values)
        if unknown or not self.roles:
            raise ValidationError({"roles": f"Roles must be a non-empty subset of {sorted(StaffRole.values)}."})


class ProgramAdministrator(models.Model):
    """Runs voucher programs; not tied to any school."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="program_admin")
    created_at = models.DateTimeField(default=clock.now)


class AuthSession(models.Model):
    """One signed-in device: the family of rotating refresh tokens it has been given.

    Access tokens name their session (`sid`), so revoking the session ends them at once.
    Only the newest refresh token (`current_refresh_jti`) may be used; presenting an
    older one means it was stolen or replayed, and the whole session is revoked.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    current_refresh_jti = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)
    refreshed_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=30, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]


class AbsenceReason(models.TextChoices):
    ILLNESS = "illness"
    MEDICAL_APPOINTMENT = "medical_appointment"
    FAMILY = "family"
    TRAVEL = "travel"
    OTHER = "other"


class AbsenceNote(models.Model):
    """A guardian tells the school a child will be (or was) away on some days.

    Reporting it sends `guardians.signals.absence_reported` after commit, so other
    apps (the canteen) react without this app knowing them.
    """

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="absence_notes")
    reported_by = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="absence_notes")
    link = models.ForeignKey(GuardianLink, on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=24, choices=AbsenceReason.choices)
    details = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-first_day", "-id"]
        indexes = [models.Index(fields=["student", "first_day"], name="absence_student_day_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=models.F("first_day")), name="absence_ends_after_start")
        ]


# Leavers and their retention live in their own module; importing it here registers the model.
from guardians.leavers_models import LeaverReason, StudentLeaver  # noqa: E402,F401
