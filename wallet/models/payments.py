"""Card payments through Stripe: top-ups, their refunds, saved methods, and received webhook events.

Only Stripe ids pass through (PCI SAQ A): no card number ever reaches us.
"""

from django.db import models
from django.db.models import Q

from core import clock
from guardians.models import Guardian, Student
from wallet.models.ledger import LedgerTransaction


class TopUp(models.Model):
    """A guardian's card payment into their wallet. Credited only from the verified webhook."""

    class Status(models.TextChoices):
        PENDING = "pending"  # PaymentIntent created, waiting for the card payment
        SUCCEEDED = "succeeded"  # wallet credited
        FAILED = "failed"
        REFUNDED = "refunded"  # fully refunded (partial refunds keep "succeeded")

    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="topups")
    amount = models.PositiveIntegerField(help_text="Credited to the wallet, cents.")
    fee = models.PositiveIntegerField(default=0, help_text="Charged on top of the amount, cents; shown before paying.")
    # Null only between creating the row and Stripe answering: the row exists first so that
    # the PaymentIntent's metadata and idempotency key can name it.
    payment_intent_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    automatic = models.BooleanField(default=False, help_text="Made off-session by automatic top-up.")
    failure_code = models.CharField(max_length=60, blank=True)
    refunded_amount = models.PositiveIntegerField(default=0)
    credit_transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # What made this top-up: "guardian:<id>:<Idempotency-Key>", or for automatic top-ups the
    # threshold crossing ("auto_topup:student:<id>:after_entry:<id>"). Unique, so a retried
    # request or a second charge in the same dip finds the existing top-up instead of paying twice.
    request_key = models.CharField(max_length=300, unique=True, null=True, blank=True)
    # Automatic top-ups refill this student's card once the wallet is credited.
    student = models.ForeignKey(Student, null=True, blank=True, on_delete=models.PROTECT, related_name="automatic_topups")
    charge_id = models.CharField(max_length=100, blank=True, help_text="Stripe charge (ch_...) of the payment.")
    failure_message = models.CharField(max_length=300, blank=True)
    fee_refunded = models.PositiveIntegerField(default=0, help_text="Part of the fee returned by a refund made at Stripe.")
    # Stripe's cumulative `amount_refunded` for the charge, the highest seen: refund deltas are computed against it.
    processor_refunded = models.PositiveIntegerField(default=0)
    disputed_amount = models.PositiveIntegerField(default=0, help_text="Withdrawn by open or lost disputes, cents.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["guardian", "status", "-succeeded_at"], name="topup_refundable_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="topup_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=models.F("amount")), name="topup_refund_within_amount"),
            models.CheckConstraint(condition=Q(fee_refunded__lte=models.F("fee")), name="topup_fee_refund_within_fee"),
        ]

    @property
    def total_charged(self) -> int:
        return self.amount + self.fee

    @property
    def refundable(self) -> int:
        """What a guardian may still send back to this card from their wallet."""
        return max(0, self.amount - self.refunded_amount - self.disputed_amount)


class TopUpRefund(models.Model):
    """Money sent back to the card a top-up came from (fees are refunded too, never charged).

    Every row moved `amount` out of processor clearing. A row whose money came back
    (a refund Stripe refused, a dispute won) has a `reversal_transaction`; reconciliation
    counts only the rows without one.
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # booked in the ledger, not yet confirmed by Stripe
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # Stripe refused; the wallet was credited back
        WITHDRAWN = "withdrawn"  # dispute: Stripe took the money back
        REINSTATED = "reinstated"  # dispute won: the money came back

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField()
    stripe_refund_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    # Who asked: a guardian's withdrawal, or Stripe telling us of a refund made in its dashboard or a dispute.
    origin = models.CharField(max_length=20, default="guardian")
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(max_length=60, blank=True)
    # All the rows of one guardian request share it ("guardian:<id>:<Idempotency-Key>").
    request_key = models.CharField(max_length=300, blank=True, db_index=True)
    stripe_dispute_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    fee_amount = models.PositiveIntegerField(default=0, help_text="Part of `amount` taken back from platform fees.")
    shortfall = models.PositiveIntegerField(default=0, help_text="Part the wallet could not cover, booked as owed by the guardian.")
    reversal_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="topup_refund_amount_positive")]


class PaymentMethod(models.Model):
    """A card saved at Stripe for automatic top-ups. We keep its id and what the guardian needs to recognise it.

    The row is made when the guardian first starts saving a card (it holds their Stripe
    customer); `stripe_payment_method_id` stays blank until `setup_intent.succeeded` arrives.
    """

    guardian = models.OneToOneField(Guardian, on_delete=models.CASCADE, related_name="payment_method")
    stripe_customer_id = models.CharField(max_length=100)
    stripe_payment_method_id = models.CharField(max_length=100, blank=True)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    auto_topup_enabled = models.BooleanField(default=False)
    auto_topup_threshold = models.PositiveIntegerField(null=True, blank=True)
    auto_topup_amount = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    setup_intent_id = models.CharField(max_length=100, blank=True)
    # When Stripe confirmed the saved card (the event's time): an older event never replaces a newer card.
    saved_at = models.DateTimeField(null=True, blank=True)

    @property
    def has_card(self) -> bool:
        return bool(self.stripe_payment_method_id)


class StripeEvent(models.Model):
    """Each webhook event once, by Stripe's id, whatever the number of deliveries."""

    id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=clock.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    stripe_created_at = models.DateTimeField(null=True, blank=True, help_text="When Stripe created the event.")

    class Meta:
        indexes = [models.Index(fields=["received_at"], condition=Q(processed_at__isnull=True), name="stripe_event_unprocessed_idx")]
