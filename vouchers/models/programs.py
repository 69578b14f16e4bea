"""Programs, their issue windows, and the facts eligibility is judged on.

A program is configuration, not code: Active Kids, Creative Kids, the two-voucher
2024 program and Dine & Discover differ only in the values of these fields.
"""

from django.db import models
from django.db.models import Q

from core import clock
from guardians.models import ProgramAdministrator, School, Student, User, validate_time_zone
from wallet.models import Account


class BeneficiaryKind(models.TextChoices):
    CHILD = "child", "A child, applied for by a linked guardian"
    ADULT = "adult", "An adult, applying for themselves"


class UseRule(models.TextChoices):
    PARTIAL = "partial", "Partial use: what is left stays on the voucher"
    SINGLE_USE = "single_use", "Single use: what is left is forfeited"


class ExpiryRule(models.TextChoices):
    FIXED_DATE = "fixed_date", "On a fixed date"
    END_OF_YEAR = "end_of_year", "31 December of the year of issue"
    MONTHS_AFTER_ISSUE = "months_after_issue", "A number of months after issue"
    DAYS_AFTER_ISSUE = "days_after_issue", "A number of days after issue"


ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]


def all_weekdays() -> list[int]:
    return list(ALL_WEEKDAYS)


class Program(models.Model):
    """A voucher program run by program administrators.

    Dates of the program's calendar (when it takes applications, issue windows)
    are read in `time_zone`. A voucher's own deadlines (expiry, weekdays) are read
    in the voucher's zone: the child's school's, or the program's for adults.
    """

    name = models.CharField(max_length=120)
    code = models.SlugField(max_length=40, unique=True)
    description = models.TextField(blank=True)
    beneficiary_kind = models.CharField(max_length=10, choices=BeneficiaryKind.choices)
    face_value = models.PositiveIntegerField(help_text="Cents per voucher.")
    time_zone = models.CharField(max_length=64, default="Australia/Sydney", validators=[validate_time_zone])
    starts_on = models.DateField(help_text="First day applications are taken.")
    ends_on = models.DateField(null=True, blank=True, help_text="Last day applications are taken; null: open-ended.")
    is_active = models.BooleanField(default=True)

    # Eligibility. Ages are whole months at the reference date, both bounds inclusive.
    min_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Month and day of the issue year at which age is measured; null: the day of application.
    age_reference_month = models.PositiveSmallIntegerField(null=True, blank=True)
    age_reference_day = models.PositiveSmallIntegerField(null=True, blank=True)
    requires_enrolment = models.BooleanField(default=False)
    # Empty: any school on Tuckbox counts as enrolment. An administrator's attestation covers the rest.
    eligible_schools = models.ManyToManyField(School, blank=True, related_name="voucher_programs")
    requires_residency = models.BooleanField(default=False)
    residency_self_declared = models.BooleanField(
        default=True, help_text="The applicant may declare residency when applying (recorded as their attestation)."
    )
    requires_means_test = models.BooleanField(default=False)

    # Expiry: the program's rule; an issue window may override it.
    expiry_rule = models.CharField(max_length=20, choices=ExpiryRule.choices, default=ExpiryRule.END_OF_YEAR)
    expiry_date = models.DateField(null=True, blank=True)
    expiry_period = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Months or days, per the rule.")

    # Use.
    categories = models.JSONField(default=list, help_text="Merchant categories the vouchers may be spent in.")
    allowed_weekdays = models.JSONField(default=all_weekdays, help_text="0 = Monday ... 6 = Sunday.")
    use_rule = models.CharField(max_length=12, choices=UseRule.choices, default=UseRule.PARTIAL)
    stackable = models.BooleanField(default=False, help_text="Several vouchers may pay one bill.")
    one_provider = models.BooleanField(default=False, help_text="A voucher is spent with one provider only.")
    once_per_term = models.BooleanField(
        default=False, help_text="A beneficiary may not pay the same provider with two vouchers in one term."
    )

    funding_account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="voucher_program")
    administrators = models.ManyToManyField(ProgramAdministrator, related_name="programs", blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(face_value__gt=0), name="program_face_value_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="program_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.name


class IssueWindow(models.Model):
    """Each year, from `opens` to `closes` (month and day, program time zone), a beneficiary
    may be issued `voucher_count` vouchers of this window.

    A program without windows of its own has one: the calendar year. The 2024 program has
    two ("Voucher 1" from 1 Feb, "Voucher 2" from 15 Jul); Dine & Discover has a dining and
    a discover window open all year, each bound to its own categories.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="issue_windows")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    opens_month = models.PositiveSmallIntegerField(default=1)
    opens_day = models.PositiveSmallIntegerField(default=1)
    closes_month = models.PositiveSmallIntegerField(default=12)
    closes_day = models.PositiveSmallIntegerField(default=31)
    voucher_count = models.PositiveSmallIntegerField(default=1)
    # Empty: the program's categories.
    categories = models.JSONField(default=list, blank=True)
    # Blank: the program's expiry rule.
    expiry_rule = models.CharField(max_length=20, choices=ExpiryRule.choices, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    expiry_period = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["program_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(voucher_count__gte=1), name="issue_window_count_positive"),
        ]

    def __str__(self):
        return f"{self.program.name}: {self.name}"

    def effective_categories(self) -> list[str]:
        return list(self.categories) or list(self.program.categories)


class AttestationKind(models.TextChoices):
    SCHOOL_ENROLMENT = "school_enrolment"
    RESIDENCY = "residency"
    MEANS_TEST = "means_test"


class AttestationSource(models.TextChoices):
    ADMINISTRATOR = "administrator"
    SELF_DECLARED = "self_declared"


class Attestation(models.Model):
    """A fact about a beneficiary someone vouched for: who, when, on what evidence, valid until when.

    Facts, not documents: the evidence field names what was seen ("FTB A, Centrelink
    letter 2026-02-03"), never a copy of it.
    """

    kind = models.CharField(max_length=20, choices=AttestationKind.choices)
    student = models.ForeignKey(Student, null=True, blank=True, on_delete=models.CASCADE, related_name="voucher_attestations")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="voucher_attestations")
    source = models.CharField(max_length=16, choices=AttestationSource.choices)
    attested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    evidence = models.CharField(max_length=200, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(student__isnull=False) & Q(user__isnull=True)) | (Q(student__isnull=True) & Q(user__isnull=False)),
                name="attestation_one_beneficiary",
            )
        ]


class AdultBeneficiary(models.Model):
    """What an adult applying for themselves tells us once: date of birth (for age and the
    printed-code check) and postcode (for the numbers)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="voucher_beneficiary")
    date_of_birth = models.DateField()
    postcode = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=clock.now)
