"""Redemptions at merchants, and the settlements that pay merchants for them."""

from django.db import models
from django.db.models import Q

from core import clock
from vouchers.models.programs import Program
from vouchers.models.settlement_runs import SettlementRun
from vouchers.models.vouchers import Voucher
from wallet.models import LedgerTransaction, Merchant, Terminal


class Settlement(models.Model):
    """One payout to one merchant for its redemptions of one program up to `cutoff_at` (less voids since).

    Ledger: merchant payable -> voucher payouts, posted with the settlement; the
    Stripe Connect transfer follows outside the transaction, under an idempotency
    key derived from this row, so a retried job never pays twice. One per merchant
    and program run (a program's run is one per business day): running again settles
    nothing new. `program` and `run` are empty on settlements made before runs existed.
    """

    class Status(models.TextChoices):
        PENDING_PAYOUT = "pending_payout"
        PAID = "paid"
        FAILED = "failed"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="voucher_settlements")
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.PROTECT, related_name="settlements")
    run = models.ForeignKey(SettlementRun, null=True, blank=True, on_delete=models.PROTECT, related_name="settlements")
    business_date = models.DateField(help_text="The last local day whose redemptions it covers.")
    cutoff_at = models.DateTimeField()
    redeemed_amount = models.PositiveIntegerField()
    voided_amount = models.PositiveIntegerField(default=0, help_text="Voids of redemptions paid by earlier settlements.")
    amount = models.PositiveIntegerField(help_text="Paid out: redeemed less voided, cents.")
    currency = models.CharField(max_length=3, default="AUD")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_PAYOUT)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="voucher_settlement")
    reversal_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destination = models.CharField(max_length=64, blank=True)
    transfer_id = models.CharField(max_length=100, blank=True)
    statement_csv = models.TextField()
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "merchant"], name="one_voucher_settlement_per_run_merchant"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_settlement_amount_positive"),
        ]


class Redemption(models.Model):
    """One payment at a merchant with one or more (stacked) vouchers: one ledger transaction,
    program funding -> merchant payable, for the amount actually used."""

    # Where a receipt finds its lines (with their vouchers), as a list on the instance: a new redemption's
    # come from its call's answer (vouchers/redemption.py), a listed one's from the selector's prefetch.
    RECEIPT_LINES = "receipt_lines"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="redemptions")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="voucher_redemptions")
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="voucher_redemptions")
    beneficiary_key = models.CharField(max_length=32)
    category = models.CharField(max_length=20)
    amount = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, unique=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="voucher_redemption")
    created_at = models.DateTimeField(default=clock.now)

    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(Terminal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    void_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="voucher_redemption_void"
    )
    # The settlement that paid the merchant for it, and (if voided after that) the one that took it back.
    settlement = models.ForeignKey(Settlement, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    void_settlement = models.ForeignKey(
        Settlement, null=True, blank=True, on_delete=models.PROTECT, related_name="voided_redemptions"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["merchant", "settlement"], name="redemption_unsettled_idx"),
            models.Index(fields=["program", "beneficiary_key", "merchant"], name="redemption_beneficiary_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="redemption_amount_positive")]


class RedemptionLine(models.Model):
    """What one voucher paid towards a redemption, and what it forfeited (single use)."""

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemption_lines")
    amount = models.PositiveIntegerField()
    forfeited_amount = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="redemption_line_amount_positive"),
            models.UniqueConstraint(fields=["redemption", "voucher"], name="redemption_line_unique_voucher"),
        ]
