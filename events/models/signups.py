"""A student's place (or waitlist spot) at an event, with its payment and attendance."""

from django.db import models
from django.db.models import F, Q

from core import clock
from guardians.models import Guardian, GuardianLink, Student, User
from wallet.models import LedgerTransaction, TopUp


class SignupStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment"  # consented, holds a place, fee due by payment_due_at
    OFFERED = "offered"  # was waitlisted; a freed place is held for them until payment_due_at
    CONFIRMED = "confirmed"  # consented and paid (or free)
    WAITLISTED = "waitlisted"  # consented, waiting for a place
    DECLINED = "declined"  # the guardian answered "not going"
    WITHDRAWN = "withdrawn"  # the guardian took the child out
    LAPSED = "lapsed"  # the payment deadline passed unpaid
    CANCELLED = "cancelled"  # the school cancelled the event


HOLDS_PLACE = (SignupStatus.AWAITING_PAYMENT, SignupStatus.OFFERED, SignupStatus.CONFIRMED)
UNPAID_PLACE = (SignupStatus.AWAITING_PAYMENT, SignupStatus.OFFERED)
# A student has at most one sign-up in these states per event.
LIVE = (*HOLDS_PLACE, SignupStatus.WAITLISTED)


class PaymentMethod(models.TextChoices):
    NONE = "none"
    WALLET = "wallet"
    CARD = "card"


class Attendance(models.TextChoices):
    PRESENT = "present"
    ABSENT = "absent"


class Signup(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="signups")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="event_signups")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="event_signups")
    link = models.ForeignKey(GuardianLink, on_delete=models.PROTECT, related_name="+", help_text="The authority it was made under.")
    status = models.CharField(max_length=20, choices=SignupStatus.choices)
    created_at = models.DateTimeField(default=clock.now)
    status_changed_at = models.DateTimeField(default=clock.now)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    payment_due_at = models.DateTimeField(null=True, blank=True)
    # The fee when the guardian signed: a later price change does not touch it.
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Whose wallet (or card) paid: refunds go back to them, whoever signed.
    paid_by = models.ForeignKey(Guardian, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.NONE)
    payment_transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The card payment in flight: a wallet top-up of the fee, paid on to the event when Stripe confirms it.
    card_topup = models.ForeignKey(TopUp, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refunded_amount = models.PositiveIntegerField(default=0)
    refund_transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was withdrawn, lapsed or cancelled.")
    attendance = models.CharField(max_length=10, choices=Attendance.choices, blank=True)
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    attendance_marked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["event", "status"], name="signup_event_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["event", "student"], condition=Q(status__in=LIVE), name="one_live_signup_per_student"),
            models.CheckConstraint(condition=Q(amount_paid__lte=F("amount_due")), name="signup_paid_within_due"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=F("amount_paid")), name="signup_refund_within_paid"),
        ]

    def __str__(self):
        return f"{self.student} at {self.event_id} ({self.status})"

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE
