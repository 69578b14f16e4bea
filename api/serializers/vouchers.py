"""Vouchers over HTTP: programs, applications, codes, terminal redemptions, providers, settlement, numbers.

Serializers validate shapes and render; the rules live in `vouchers/`.
"""

from datetime import datetime

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.fields import CentsField
from guardians.models import validate_time_zone
from vouchers import codes, numbers, tokens
from vouchers.models import (
    ApprovalStatus,
    AttestationKind,
    BeneficiaryKind,
    BulkIssueJob,
    ExpiryRule,
    Redemption,
    Settlement,
    UseRule,
    VoucherState,
)
from vouchers.reports import GROUPINGS
from wallet.models import MerchantCategory


def _categories(**kwargs):
    return serializers.ListField(child=serializers.ChoiceField(choices=MerchantCategory.choices), max_length=len(MerchantCategory.values), **kwargs)


def _weekdays(**kwargs):
    return serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), max_length=7, help_text="0 = Monday ... 6 = Sunday.", **kwargs
    )


class _MonthDay(serializers.Serializer):
    def validate(self, attrs):
        for prefix in ("opens", "closes"):
            month, day = attrs.get(f"{prefix}_month"), attrs.get(f"{prefix}_day")
            if month is not None and day is not None and day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31):
                raise serializers.ValidationError({f"{prefix}_day": "No such day in that month."}, code="invalid_date")
        if (attrs.get("opens_month", 1), attrs.get("opens_day", 1)) > (attrs.get("closes_month", 12), attrs.get("closes_day", 31)):
            raise serializers.ValidationError({"closes_month": "A window closes after it opens, in the same year."}, code="window_inverted")
        return attrs


# --- Programs -----------------------------------------------------------------


class VoucherIssueWindowInput(_MonthDay):
    name = serializers.CharField(max_length=60)
    opens_month = serializers.IntegerField(min_value=1, max_value=12, default=1)
    opens_day = serializers.IntegerField(min_value=1, max_value=31, default=1)
    closes_month = serializers.IntegerField(min_value=1, max_value=12, default=12)
    closes_day = serializers.IntegerField(min_value=1, max_value=31, default=31)
    voucher_count = serializers.IntegerField(min_value=1, max_value=12, default=1)
    categories = _categories(required=False, default=list, help_text="Empty: the program's categories.")
    expiry_rule = serializers.ChoiceField(choices=ExpiryRule.choices, required=False, default="", allow_blank=True, help_text="Blank: the program's rule.")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_period = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True, default=None)


class VoucherIssueWindowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    opens_month = serializers.IntegerField()
    opens_day = serializers.IntegerField()
    closes_month = serializers.IntegerField()
    closes_day = serializers.IntegerField()
    voucher_count = serializers.IntegerField()
    categories = serializers.ListField(child=serializers.CharField(), source="effective_categories")
    expiry_rule = serializers.CharField(help_text="Blank: the program's rule.")
    expiry_date = serializers.DateField(allow_null=True)
    expiry_period = serializers.IntegerField(allow_null=True)


class VoucherProgramCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    code = serializers.SlugField(max_length=40)
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    beneficiary_kind = serializers.ChoiceField(choices=BeneficiaryKind.choices)
    face_value = CentsField(max_value=1_000_000, help_text="Cents per voucher.")
    vouchers_per_period = serializers.IntegerField(min_value=1, max_value=12, default=1, help_text="Per calendar year, when no issue windows are given.")
    issue_windows = VoucherIssueWindowInput(many=True, required=False, default=list, max_length=12)
    time_zone = serializers.CharField(max_length=64, default="Australia/Sydney", validators=[validate_time_zone], help_text="IANA zone of the program's calendar.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    min_age_months = serializers.IntegerField(min_value=0, max_value=1500, required=False, allow_null=True, default=None)
    max_age_months = serializers.IntegerField(min_value=0, max_value=1500, required=False, allow_null=True, default=None)
    age_reference_month = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True, default=None)
    age_reference_day = serializers.IntegerField(min_value=1, max_value=31, required=False, allow_null=True, default=None)
    requires_enrolment = serializers.BooleanField(default=False)
    eligible_school_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=5000)
    requires_residency = serializers.BooleanField(default=False)
    residency_self_declared = serializers.BooleanField(default=True)
    requires_means_test = serializers.BooleanField(default=False)
    expiry_rule = serializers.ChoiceField(choices=ExpiryRule.choices, default=ExpiryRule.END_OF_YEAR)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_period = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True, default=None)
    categories = _categories(min_length=1)
    allowed_weekdays = _weekdays(required=False, default=lambda: [0, 1, 2, 3, 4, 5, 6], min_length=1)
    use_rule = serializers.ChoiceField(choices=UseRule.choices, default=UseRule.PARTIAL)
    stackable = serializers.BooleanField(default=False)
    one_provider = serializers.BooleanField(default=False)
    once_per_term = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs["ends_on"] and attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": "Must be on or after starts_on."}, code="date_range_inverted")
        low, high = attrs["min_age_months"], attrs["max_age_months"]
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_age_months": "Must be at least min_age_months."}, code="age_range_inverted")
        if (attrs["age_reference_month"] is None) != (attrs["age_reference_day"] is None):
            raise serializers.ValidationError({"age_reference_day": "Give both month and day, or neither."}, code="incomplete")
        return attrs


class VoucherProgramUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_active = serializers.BooleanField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    allowed_weekdays = _weekdays(required=False, min_length=1)


class VoucherProgramOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    description = serializers.CharField()
    beneficiary_kind = serializers.ChoiceField(choices=BeneficiaryKind.choices)
    face_value = serializers.IntegerField(help_text="Cents per voucher.")
    issue_windows = VoucherIssueWindowOutput(many=True)
    time_zone = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()
    min_age_months = serializers.IntegerField(allow_null=True)
    max_age_months = serializers.IntegerField(allow_null=True)
    age_reference_month = serializers.IntegerField(allow_null=True)
    age_reference_day = serializers.IntegerField(allow_null=True)
    requires_enrolment = serializers.BooleanField()
    eligible_school_ids = serializers.SerializerMethodField()
    requires_residency = serializers.BooleanField()
    residency_self_declared = serializers.BooleanField()
    requires_means_test = serializers.BooleanField()
    expiry_rule = serializers.ChoiceField(choices=ExpiryRule.choices)
    expiry_date = serializers.DateField(allow_null=True)
    expiry_period = serializers.IntegerField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField())
    allowed_weekdays = serializers.ListField(child=serializers.IntegerField())
    use_rule = serializers.ChoiceField(choices=UseRule.choices)
    stackable = serializers.BooleanField()
    one_provider = serializers.BooleanField()
    once_per_term = serializers.BooleanField()

    def get_eligible_school_ids(self, program) -> list[int]:
        return sorted(school.pk for school in program.eligible_schools.all())


# --- Applying, holding, showing -------------------------------------------------------


class VoucherApplicationInput(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1, required=False, help_text="For a children's program: your linked child.")
    date_of_birth = serializers.DateField(required=False, help_text="For an adult program, with your first application.")
    postcode = serializers.RegexField(r"^\d{4}$", required=False, default="", allow_blank=True)
    declare_residency = serializers.BooleanField(default=False, help_text="I declare the beneficiary lives in the program's state.")


class VoucherBeneficiaryOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BeneficiaryKind.choices)
    student_id = serializers.IntegerField(allow_null=True)
    first_name = serializers.CharField()


class VoucherProgramBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()


class VoucherHistoryOutput(serializers.Serializer):
    redemption_id = serializers.IntegerField()
    merchant_name = serializers.CharField(source="redemption.merchant.name")
    amount = serializers.IntegerField()
    forfeited_amount = serializers.IntegerField()
    created_at = serializers.DateTimeField(source="redemption.created_at")
    voided_at = serializers.DateTimeField(source="redemption.voided_at", allow_null=True)


class VoucherOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.SerializerMethodField(help_text="Printed in three groups of five.")
    program = VoucherProgramBriefOutput()
    issue_window = serializers.CharField(source="issue_window.name")
    beneficiary = serializers.SerializerMethodField()
    face_value = serializers.IntegerField()
    remaining_value = serializers.IntegerField()
    forfeited_value = serializers.IntegerField(help_text="Lost by a single-use voucher spent in part.")
    state = serializers.ChoiceField(choices=VoucherState.choices, source="current_state", help_text="`expired` is judged now, in the voucher's time zone.")
    categories = serializers.ListField(child=serializers.CharField(), source="issue_window.effective_categories")
    use_rule = serializers.ChoiceField(choices=UseRule.choices, source="program.use_rule")
    issued_on = serializers.DateField()
    expires_on = serializers.DateField(help_text="The last local day it can be used.")
    time_zone = serializers.CharField()

    def get_number(self, voucher) -> str:
        return numbers.formatted(voucher.number)

    @extend_schema_field(VoucherBeneficiaryOutput)
    def get_beneficiary(self, voucher) -> dict:
        return VoucherBeneficiaryOutput(
            {"kind": BeneficiaryKind.CHILD if voucher.student_id else BeneficiaryKind.ADULT, "student_id": voucher.student_id, "first_name": voucher.beneficiary_first_name}
        ).data


class VoucherDetailOutput(VoucherOutput):
    history = VoucherHistoryOutput(many=True, help_text="Redemptions, newest first; voided ones say when.")


class VoucherAdminOutput(VoucherOutput):
    holder_id = serializers.IntegerField()
    holder_email = serializers.EmailField(source="holder.email")
    issue_source = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()


class VoucherCodeOutput(serializers.Serializer):
    payload = serializers.CharField(help_text="What the QR code encodes. Rotating codes change every step; fetch again at `refresh_at`.")
    style = serializers.ChoiceField(choices=codes.STYLES)
    number = serializers.CharField()
    refresh_at = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True, help_text="Last moment a terminal accepts this rotating code.")


class VoucherCodeQueryInput(serializers.Serializer):
    style = serializers.ChoiceField(choices=codes.STYLES, default=codes.ROTATING, help_text="`printed`: a static code for paper, accepted only with the date of birth.")


class VoucherPublicKeyOutput(serializers.Serializer):
    kid = serializers.CharField()
    kty = serializers.CharField()
    crv = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField()
    x = serializers.CharField(help_text="The raw 32-byte Ed25519 public key, base64url without padding.")
    status = serializers.ChoiceField(choices=tokens.KEY_STATUSES)


class VoucherKeysOutput(serializers.Serializer):
    keys = VoucherPublicKeyOutput(many=True)
    token_format = serializers.CharField()


# --- Administrators ---------------------------------------------------------------------


class VoucherAttestationInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttestationKind.choices)
    student_id = serializers.IntegerField(min_value=1, required=False)
    user_id = serializers.IntegerField(min_value=1, required=False, help_text="An adult beneficiary, or (means test) a child's guardian.")
    evidence = serializers.CharField(max_length=200, required=False, default="", allow_blank=True, help_text="What was seen, not a copy of it.")
    valid_from = serializers.DateField(required=False)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if ("student_id" in attrs) == ("user_id" in attrs):
            raise serializers.ValidationError("Give exactly one of student_id and user_id.", code="one_beneficiary")
        return attrs


class VoucherAttestationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AttestationKind.choices)
    student_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()
    attested_by_id = serializers.IntegerField()
    evidence = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()


class VoucherBulkIssueInput(serializers.Serializer):
    csv = serializers.CharField(
        max_length=250_000,
        trim_whitespace=False,
        help_text="Children's programs: `school_code,student_number[,guardian_email]`. Adult programs: `email,date_of_birth[,postcode]`.",
    )


class VoucherBulkIssueErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line number in the file (the header is line 1).")
    code = serializers.CharField()
    message = serializers.CharField()


class VoucherBulkIssueJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=BulkIssueJob.Status.choices)
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    progress_percent = serializers.SerializerMethodField()
    issued_vouchers = serializers.IntegerField()
    skipped_rows = serializers.IntegerField()
    failed_rows = serializers.IntegerField()
    errors = VoucherBulkIssueErrorOutput(many=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_progress_percent(self, job) -> int:
        return 100 if not job.total_rows else job.processed_rows * 100 // job.total_rows


class VoucherEndInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class VoucherUptakeQueryInput(serializers.Serializer):
    program_id = serializers.IntegerField(min_value=1, required=False)
    group_by = serializers.ChoiceField(choices=GROUPINGS, default="program")
    issued_from = serializers.DateField(required=False)
    issued_to = serializers.DateField(required=False)


class VoucherUptakeRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    vouchers_issued = serializers.IntegerField()
    value_issued = serializers.IntegerField(help_text="Cents.")
    vouchers_redeemed = serializers.IntegerField(help_text="Vouchers spent at least in part.")
    value_redeemed = serializers.IntegerField(help_text="Cents reimbursed to merchants.")
    value_forfeited = serializers.IntegerField(help_text="Cents lost by single-use vouchers spent in part.")
    redemption_rate = serializers.FloatField(help_text="vouchers_redeemed / vouchers_issued, 0..1.")


class VoucherUptakeOutput(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPINGS)
    rows = VoucherUptakeRowOutput(many=True)
    totals = VoucherUptakeRowOutput()


# --- Providers ------------------------------------------------------------------------------


class VoucherProviderApplicationInput(serializers.Serializer):
    program_id = serializers.IntegerField(min_value=1)
    categories = _categories(min_length=1)
    abn = serializers.RegexField(r"^[0-9 ]{11,14}$", help_text="Australian Business Number, 11 digits.")
    insurance_expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    wwcc_expires_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Working-with-children check.")
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class VoucherProviderApproveInput(serializers.Serializer):
    abn = serializers.RegexField(r"^[0-9 ]{11,14}$")
    insurance_expires_on = serializers.DateField()
    wwcc_expires_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Required for children's programs.")
    expires_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Last day of the approval; null: until changed.")
    categories = _categories(required=False, min_length=1, help_text="Approved categories; default: those applied for.")
    stripe_account_id = serializers.RegexField(r"^acct_[A-Za-z0-9]{6,60}$", required=False, default="", help_text="Stripe Connect account settlements are paid to.")


class VoucherProviderDecisionInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class VoucherProviderApprovalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    program_name = serializers.CharField(source="program.name")
    merchant_id = serializers.IntegerField()
    merchant_name = serializers.CharField(source="merchant.name")
    categories = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    abn = serializers.CharField()
    insurance_expires_on = serializers.DateField(allow_null=True)
    wwcc_expires_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    reason = serializers.CharField()
    applied_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


# --- Terminals --------------------------------------------------------------------------------


class VoucherCredentialInput(serializers.Serializer):
    qr = serializers.CharField(max_length=300, required=False, trim_whitespace=True, help_text="The scanned payload (`TBV1....`).")
    number = serializers.CharField(max_length=40, required=False, help_text="The typed voucher number; needs date_of_birth.")
    date_of_birth = serializers.DateField(required=False, help_text="The beneficiary's: with a typed number or a printed code.")

    def validate(self, attrs):
        if ("qr" in attrs) == ("number" in attrs):
            raise serializers.ValidationError("Give either qr or number.", code="one_credential")
        if "number" in attrs:
            if "date_of_birth" not in attrs:
                raise serializers.ValidationError({"date_of_birth": "A typed number needs the date of birth."}, code="required")
            if numbers.normalise(attrs["number"]) is None:
                raise serializers.ValidationError({"number": "That is not a voucher number: check each character."}, code="voucher_number_invalid")
        return attrs


class VoucherRedeemInput(serializers.Serializer):
    vouchers = VoucherCredentialInput(many=True, min_length=1, max_length=10, help_text="One voucher, or several to combine where the program allows.")
    amount = CentsField(max_value=settings.VOUCHER_MAX_REDEMPTION_CENTS, help_text="Cents to take, at most what is left.")
    category = serializers.ChoiceField(choices=MerchantCategory.choices, required=False, help_text="Needed when the merchant is approved for several of the voucher's categories.")
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class VoucherPreviewOutput(serializers.Serializer):
    voucher_id = serializers.IntegerField()
    number = serializers.CharField()
    program = VoucherProgramBriefOutput()
    state = serializers.ChoiceField(choices=VoucherState.choices)
    face_value = serializers.IntegerField()
    remaining_value = serializers.IntegerField()
    expires_on = serializers.DateField()
    beneficiary_first_name = serializers.CharField()
    use_rule = serializers.ChoiceField(choices=UseRule.choices, help_text="`single_use`: what the payment leaves is forfeited.")
    stackable = serializers.BooleanField()
    can_redeem = serializers.BooleanField()
    refusal_code = serializers.CharField(allow_null=True, help_text="Why not, as the redemption would answer.")
    refusal_detail = serializers.CharField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField(), help_text="Categories it may be spent in here.")


class VoucherRedemptionLineOutput(serializers.Serializer):
    voucher_id = serializers.IntegerField()
    number = serializers.SerializerMethodField()
    amount = serializers.IntegerField()
    forfeited_amount = serializers.IntegerField()
    remaining_value = serializers.IntegerField(source="voucher.remaining_value", help_text="Left on the voucher now.")

    def get_number(self, line) -> str:
        return numbers.formatted(line.voucher.number)


class VoucherRedemptionOutput(serializers.Serializer):
    redemption_id = serializers.IntegerField(source="pk")
    program = VoucherProgramBriefOutput()
    terminal_id = serializers.IntegerField()
    category = serializers.CharField()
    amount = serializers.IntegerField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    void_until = serializers.SerializerMethodField(help_text="Until when the terminal may void it.")
    voided_at = serializers.DateTimeField(allow_null=True)
    settlement_id = serializers.IntegerField(allow_null=True)
    lines = VoucherRedemptionLineOutput(many=True, source=Redemption.RECEIPT_LINES)

    def get_void_until(self, redemption) -> datetime:
        return serializers.DateTimeField().to_representation(redemption.created_at + settings.VOUCHER_VOID_WINDOW)


class VoucherSettlementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField(allow_null=True, help_text="The program it pays for; null before settlement runs.")
    business_date = serializers.DateField()
    cutoff_at = serializers.DateTimeField()
    redeemed_amount = serializers.IntegerField()
    voided_amount = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Paid out, cents.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Settlement.Status.choices)
    transfer_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class VoucherMerchantBalanceOutput(serializers.Serializer):
    pending_amount = serializers.IntegerField(help_text="Redeemed, not yet settled, cents.")
    in_payout_amount = serializers.IntegerField(help_text="Settled, transfer not yet confirmed, cents.")
    paid_amount = serializers.IntegerField(help_text="Transferred, all time, cents.")
    currency = serializers.CharField()
