"""Card payments through Stripe: top-ups, their refunds, saved methods, and received webhook events.

Only Stripe ids pass through (PCI SAQ A): no card number ever reaches us.
"""

from django.db import models
from django.db.models import Q

from guardians import clock
from guardians.models import Guardian
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
    payment_intent_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    automatic = models.BooleanField(default=False, help_text="Made off-session by automatic top-up.")
    failure_code = models.CharField(max_length=60, blank=True)
    refunded_amount = models.PositiveIntegerField(default=0)
    credit_transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="topup_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=models.F("amount")), name="topup_refund_within_amount"),
        ]

    @property
    def total_charged(self) -> int:
        return self.amount + self.fee


class TopUpRefund(models.Model):
    """Money sent back to the card a top-up came from (fees are refunded too, never charged)."""

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField()
    stripe_refund_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    # Who asked: a guardian's withdrawal, or Stripe telling us of a refund made in its dashboard or a dispute.
    origin = models.CharField(max_length=20, default="guardian")
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)


class PaymentMethod(models.Model):
    """A card saved at Stripe for automatic top-ups. We keep its id and what the guardian needs to recognise it."""

    guardian = models.OneToOneField(Guardian, on_delete=models.CASCADE, related_name="payment_method")
    stripe_customer_id = models.CharField(max_length=100)
    stripe_payment_method_id = models.CharField(max_length=100)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    auto_topup_enabled = models.BooleanField(default=False)
    auto_topup_threshold = models.PositiveIntegerField(null=True, blank=True)
    auto_topup_amount = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)


class StripeEvent(models.Model):
    """Each webhook event once, by Stripe's id, whatever the number of deliveries."""

    id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=clock.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
