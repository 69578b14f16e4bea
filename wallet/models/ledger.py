"""The double-entry ledger.

Every movement of money is one LedgerTransaction with two or more Entries whose
amounts sum to zero. An entry's amount is signed from the account holder's point
of view: +500 on a guardian wallet means the guardian holds $5 more. So the sum
of every account's balance is always zero, and money can be neither created nor
lost. Entries are append-only; a correction is a reversing transaction.

PostgreSQL enforces this too (migration 0003): a deferred constraint trigger
refuses an unbalanced transaction at commit, triggers refuse UPDATE and DELETE
of entries and transactions, and CHECK constraints keep accounts that may not
go below zero from doing so.
"""

from django.db import models
from django.db.models import F, Q

from core import clock
from guardians.models import Guardian, Student
from wallet.models.merchants import Merchant

CURRENCY = "AUD"


class AccountKind(models.TextChoices):
    GUARDIAN_WALLET = "guardian_wallet"
    STUDENT_CARD = "student_card"
    MERCHANT_PAYABLE = "merchant_payable"
    VOUCHER_FUNDING = "voucher_funding"
    PROCESSOR_CLEARING = "processor_clearing"
    FEES = "fees"
    EVENT_FEES = "event_fees"
    # Money brought into the ledger from outside it at the start (the demo's balances), not through the processor.
    OPENING_BALANCE = "opening_balance"


class Account(models.Model):
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3, default=CURRENCY)
    guardian = models.ForeignKey(Guardian, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    # The balance a student spends with any of their cards; a replaced card keeps it.
    student = models.ForeignKey(Student, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    # For accounts of the platform itself (processor clearing, fees) and of voucher programs.
    system_code = models.CharField(max_length=64, null=True, blank=True, unique=True)
    allow_negative = models.BooleanField(default=False)
    # Cached from the entries, written only under this row's lock, checked by reconciliation.
    balance = models.BigIntegerField(default=0)
    # Sum of pending holds; `balance - held` is what can be spent.
    held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(allow_negative=True) | Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=F("held")), name="account_available_not_negative"
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_not_negative"),
            models.UniqueConstraint(fields=["kind", "guardian"], condition=Q(guardian__isnull=False), name="one_account_per_guardian_kind"),
            models.UniqueConstraint(fields=["kind", "student"], condition=Q(student__isnull=False), name="one_account_per_student_kind"),
            models.UniqueConstraint(fields=["kind", "merchant"], condition=Q(merchant__isnull=False), name="one_account_per_merchant_kind"),
        ]

    def __str__(self):
        return self.name

    @property
    def available(self) -> int:
        return self.balance - self.held


class LedgerTransaction(models.Model):
    kind = models.CharField(max_length=40)
    # The idempotency anchor: the same reference never posts twice.
    reference = models.CharField(max_length=200, unique=True)
    memo = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=64, help_text="Who caused it: user:<id>, terminal:<id>, stripe, system.")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} {self.reference}"


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    # The account's balance right after this entry: statements page without summing history.
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "-id"], name="entry_account_recent_idx")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero")]


class HoldStatus(models.TextChoices):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class Hold(models.Model):
    """A two-phase transfer: money reserved on `account` now, posted to `counterparty` or voided later.

    A pending hold past `expires_at` no longer reserves anything; it is voided
    lazily, under the account's lock, by the next write to that account.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    counterparty = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    reference = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.PENDING)
    expires_at = models.DateTimeField()
    memo = models.CharField(max_length=300, blank=True)
    posted_transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="hold")
    created_at = models.DateTimeField(default=clock.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "status", "expires_at"], name="hold_pending_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive")]


class ReconciliationIssue(models.Model):
    """A mismatch found by the nightly reconciliation; stays until finance resolves it."""

    class Kind(models.TextChoices):
        UNBALANCED_TRANSACTION = "unbalanced_transaction"
        BALANCE_MISMATCH = "balance_mismatch"
        HELD_MISMATCH = "held_mismatch"
        PROCESSOR_MISMATCH = "processor_mismatch"

    run_at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT)
    transaction = models.ForeignKey(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT)
    expected = models.BigIntegerField(null=True)
    actual = models.BigIntegerField(null=True)
    detail = models.CharField(max_length=300)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-run_at", "id"]
