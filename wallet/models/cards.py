"""Prepaid student cards, the guardian-set spending controls, and card charges."""

from django.db import models
from django.db.models import Q

from core import clock
from guardians.models import Student, User
from wallet.models.ledger import LedgerTransaction
from wallet.models.merchants import Merchant, Terminal


class CardStatus(models.TextChoices):
    ACTIVE = "active"
    FROZEN = "frozen"
    LOST = "lost"
    REPLACED = "replaced"
    # The student left the school: the card is never charged again and its balance went back to the family.
    CLOSED = "closed"


class StudentCard(models.Model):
    """A physical card. The money is on the student's account, so a replacement keeps it.

    The identifier a terminal reads is stored only as a keyed hash (HMAC with
    CARD_IDENTIFIER_KEY): card numbers are short enough to brute-force a plain hash.
    """

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="cards")
    identifier_hash = models.CharField(max_length=64, unique=True)
    identifier_last4 = models.CharField(max_length=4)
    status = models.CharField(max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    replaced_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces")
    issued_at = models.DateTimeField(default=clock.now)
    status_changed_at = models.DateTimeField(default=clock.now)
    status_changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            # At most one usable (active or frozen) card per student at a time.
            models.UniqueConstraint(
                fields=["student"], condition=Q(status__in=["active", "frozen"]), name="one_live_card_per_student"
            )
        ]


class SpendingControls(models.Model):
    """Limits a guardian with money permission sets on a student's card spending.

    Days and weeks are the school's, in its time zone; the week starts on the
    school's `week_starts_on`. A null cap means no cap.
    """

    student = models.OneToOneField(Student, on_delete=models.CASCADE, related_name="spending_controls")
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    weekly_cap = models.PositiveIntegerField(null=True, blank=True)
    banned_categories = models.JSONField(default=list, blank=True)
    low_balance_threshold = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class CardCharge(models.Model):
    """A terminal's charge to a student's card: one ledger transaction, card account -> merchant payable."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="charges")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="card_charges")
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="card_charges")
    card = models.ForeignKey(StudentCard, on_delete=models.PROTECT, related_name="charges")
    amount = models.PositiveIntegerField()
    refunded_amount = models.PositiveIntegerField(default=0)
    categories = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=200, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="card_charge")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["student", "created_at"], name="charge_student_time_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=models.F("amount")), name="charge_refund_within_amount"),
        ]

    @property
    def net_amount(self) -> int:
        return self.amount - self.refunded_amount


class CardChargeRefund(models.Model):
    charge = models.ForeignKey(CardCharge, on_delete=models.PROTECT, related_name="refunds")
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveIntegerField()
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="card_charge_refund")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-id"]
