"""Merchants approved to accept a program (providers), and where their payouts go."""

from datetime import date

from django.db import models
from django.db.models import Q

from core import clock
from guardians.models import User
from vouchers.models.programs import Program
from wallet.models import Merchant, Terminal


class ApprovalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ProviderApproval(models.Model):
    """A merchant's application to accept a program, and the administrator's decision.

    The evidence is recorded as facts with their expiry (ABN, public liability
    insurance, working-with-children check), never as documents. An approval stops
    working when it, the insurance or the check expires, or when it is suspended.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="provider_approvals")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="voucher_approvals")
    categories = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    note = models.CharField(max_length=300, blank=True)
    applied_by_terminal = models.ForeignKey(Terminal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    applied_at = models.DateTimeField(default=clock.now)

    abn = models.CharField(max_length=11, blank=True)
    insurance_expires_on = models.DateField(null=True, blank=True)
    wwcc_expires_on = models.DateField(null=True, blank=True, help_text="Working-with-children check.")
    expires_on = models.DateField(null=True, blank=True, help_text="Last day of the approval; null: until changed.")

    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, help_text="Why rejected or suspended.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "merchant"], condition=~Q(status="rejected"), name="one_live_approval_per_program_merchant"
            )
        ]

    def lapsed_evidence(self, today: date, *, needs_wwcc: bool) -> list[str]:
        """Which approval facts have run out by `today` (the last valid day is the expiry day)."""
        lapsed = []
        if self.expires_on is not None and today > self.expires_on:
            lapsed.append("approval")
        if self.insurance_expires_on is None or today > self.insurance_expires_on:
            lapsed.append("insurance")
        if needs_wwcc and (self.wwcc_expires_on is None or today > self.wwcc_expires_on):
            lapsed.append("working_with_children_check")
        return lapsed


class PayoutDestination(models.Model):
    """The Stripe Connect account a merchant's voucher settlements are transferred to.

    Set by a program administrator when approving (a payout destination is the
    classic target of fraud, so terminals cannot change it).
    """

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="voucher_payout_destination")
    stripe_account_id = models.CharField(max_length=64)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=clock.now)
