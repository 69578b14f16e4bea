"""Issued vouchers and bulk-issue jobs."""

from datetime import datetime

from django.db import models
from django.db.models import F, Q

from core import clock
from guardians.models import School, Student, User
from vouchers.models.programs import IssueWindow, Program


class VoucherState(models.TextChoices):
    """`expired` is never stored: it is derived from `expires_at` when read (see Voucher.state_at)."""

    ISSUED = "issued"
    PARTLY_REDEEMED = "partly_redeemed"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REVOKED = "revoked"


# States in which a voucher can still be spent (until it expires).
LIVE_STATES = (VoucherState.ISSUED, VoucherState.PARTLY_REDEEMED)


class IssueSource(models.TextChoices):
    APPLICATION = "application"
    BULK = "bulk"


class BulkIssueJob(models.Model):
    """An administrator's CSV of beneficiaries, issued row by row in a Celery task.

    `processed_rows` advances in the same transaction as each row's vouchers, so a
    task that dies and runs again resumes where it stopped and issues nothing twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="bulk_jobs")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    csv_text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    issued_vouchers = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0, help_text="Rows whose beneficiary already had this period's vouchers.")
    failed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class Voucher(models.Model):
    """One voucher: a value a holder may spend for a beneficiary, until it expires.

    `remaining_value` and `state` change only under this row's lock (redemption,
    void, revoke). `forfeited_value` is what a single-use voucher lost when spent in part.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="vouchers")
    issue_window = models.ForeignKey(IssueWindow, on_delete=models.PROTECT, related_name="vouchers")
    period_year = models.PositiveSmallIntegerField()
    sequence = models.PositiveSmallIntegerField(help_text="1..voucher_count within the window and year.")
    number = models.CharField(max_length=15, unique=True, help_text="Crockford base32, the last character a check digit.")
    totp_secret = models.CharField(max_length=40, help_text="Hex; seeds the rotating code shown in the app.")

    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="held_vouchers")
    student = models.ForeignKey(Student, null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers")
    beneficiary_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "student:<id>" or "user:<id>": one column for uniqueness and rule queries.
    beneficiary_key = models.CharField(max_length=32)
    # Snapshots at issue, for the uptake numbers.
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    postcode = models.CharField(max_length=4, blank=True)

    face_value = models.PositiveIntegerField()
    remaining_value = models.PositiveIntegerField()
    forfeited_value = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=VoucherState.choices, default=VoucherState.ISSUED)
    # The voucher's own ledger account, funded from the program's at issue (vouchers/reserves.py):
    # a redemption pays from it, so redemptions of one program share no account row.
    reserve_account = models.OneToOneField(
        "wallet.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="voucher_reserve"
    )

    time_zone = models.CharField(max_length=64)
    issued_on = models.DateField()
    issued_at = models.DateTimeField(default=clock.now)
    expires_on = models.DateField(help_text="Last local day the voucher can be used.")
    expires_at = models.DateTimeField(help_text="The local midnight that ends `expires_on`, in UTC.")
    issue_source = models.CharField(max_length=12, choices=IssueSource.choices)
    issued_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bulk_job = models.ForeignKey(BulkIssueJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="vouchers")

    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was revoked or cancelled.")
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["holder", "-id"], name="voucher_holder_idx"),
            models.Index(fields=["program", "state"], name="voucher_program_state_idx"),
            models.Index(fields=["expires_at"], name="voucher_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(face_value__gt=0), name="voucher_face_value_positive"),
            models.CheckConstraint(
                condition=Q(remaining_value__lte=F("face_value") - F("forfeited_value")), name="voucher_remaining_within_value"
            ),
            models.CheckConstraint(
                condition=(Q(student__isnull=False) & Q(beneficiary_user__isnull=True))
                | (Q(student__isnull=True) & Q(beneficiary_user__isnull=False)),
                name="voucher_one_beneficiary",
            ),
            # The database's word on "already issued this period", whatever races the application.
            models.UniqueConstraint(
                fields=["program", "beneficiary_key", "issue_window", "period_year", "sequence"],
                condition=~Q(state="cancelled"),
                name="voucher_one_per_slot",
            ),
        ]

    def __str__(self):
        return self.number

    def state_at(self, when: datetime | None = None) -> str:
        if self.state in LIVE_STATES and (when or clock.now()) >= self.expires_at:
            return VoucherState.EXPIRED
        return self.state

    @property
    def current_state(self) -> str:
        return self.state_at(clock.now())

    @property
    def used_value(self) -> int:
        return self.face_value - self.remaining_value - self.forfeited_value

    @property
    def beneficiary_first_name(self) -> str:
        if self.student_id:
            return self.student.first_name
        return self.beneficiary_user.first_name
