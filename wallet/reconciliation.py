"""Reconciliation: the ledger checked against itself and against the payment processor.

Checks, each one aggregate SQL statement (GROUP BY over the entries, never a
Python loop over rows), so a run costs a few sequential scans however long the
history:

- every transaction has two or more entries summing to zero;
- every account's cached balance equals the sum of its entries, and its last
  entry's `balance_after` equals that sum too (the running balance statements show);
- every account's cached `held` equals the sum of its pending holds (expired or
  not: an expired hold stays pending until the next write voids it);
- processor clearing equals -(amount + fee of every top-up that succeeded) plus
  what was refunded and stayed refunded: the money Stripe holds for us is what the ledger says.

On PostgreSQL the checks read one REPEATABLE READ snapshot, so charges posting
during the run cannot show up as a mismatch. A finding becomes a
ReconciliationIssue unless an unresolved identical one exists, so the nightly run
and on-demand runs can repeat freely.
"""

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog
from django.db import connection, transaction
from django.db.models import F, Sum

from core import clock
from wallet.accounts import PROCESSOR_CLEARING
from wallet.models import Account, Entry, Hold, HoldStatus, LedgerTransaction, ReconciliationIssue, TopUp, TopUpRefund

log = structlog.get_logger("wallet.reconciliation")

Kind = ReconciliationIssue.Kind
# Enough to act on; a ledger broken in more places than this needs a person, not a longer list.
MAX_FINDINGS_PER_CHECK = 500
# Serialises concurrent runs while they record issues (pg_advisory_xact_lock key: "RECONCIL").
ADVISORY_LOCK_KEY = int.from_bytes(b"RECONCIL", "big") & 0x7FFF_FFFF_FFFF_FFFF
# Top-ups whose amount and fee reached the processor: a fully refunded one succeeded first.
TOPUP_CHARGED_STATUSES = [TopUp.Status.SUCCEEDED, TopUp.Status.REFUNDED]


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    account_id: int | None = None
    transaction_id: int | None = None
    expected: int | None = None
    actual: int | None = None


@dataclass(frozen=True)
class ReconciliationSummary:
    run_at: datetime
    checked_transactions: int
    checked_accounts: int
    issues_found: int
    new_issues: int

    @property
    def ok(self) -> bool:
        return self.issues_found == 0


def reconciliation_run() -> ReconciliationSummary:
    """Run every check and record new issues. Safe to run twice, and alongside live traffic."""
    run_at = clock.now()
    with _consistent_snapshot():
        checked_transactions = LedgerTransaction.objects.count()
        checked_accounts = Account.objects.count()
        findings = [
            *find_unbalanced_transactions(),
            *find_balance_mismatches(),
            *find_held_mismatches(),
            *find_processor_mismatch(),
        ]
    new_issues = _record(findings, run_at=run_at)
    summary = ReconciliationSummary(
        run_at=run_at,
        checked_transactions=checked_transactions,
        checked_accounts=checked_accounts,
        issues_found=len(findings),
        new_issues=new_issues,
    )
    log_method = log.info if summary.ok else log.error
    log_method("reconciliation_finished", **{k: v for k, v in asdict(summary).items() if k != "run_at"}, ok=summary.ok)
    return summary


# --- Checks -----------------------------------------------------------------


def find_unbalanced_transactions() -> list[Finding]:
    sql = f"""
        SELECT t.id, COALESCE(SUM(e.amount), 0) AS total, COUNT(e.id) AS legs
          FROM {LedgerTransaction._meta.db_table} t
          LEFT JOIN {Entry._meta.db_table} e ON e.transaction_id = t.id
         GROUP BY t.id
        HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2
         ORDER BY t.id
         LIMIT {MAX_FINDINGS_PER_CHECK}
    """
    return [
        Finding(
            kind=Kind.UNBALANCED_TRANSACTION,
            transaction_id=transaction_id,
            expected=0,
            actual=total,
            detail=f"Transaction {transaction_id} has {legs} entries summing to {total}; "
            "a transaction needs two or more entries summing to zero.",
        )
        for transaction_id, total, legs in _rows(sql)
    ]


def find_balance_mismatches() -> list[Finding]:
    """Cached balance and last running balance against the sum of the entries, in one pass."""
    entry = Entry._meta.db_table
    sql = f"""
        SELECT a.id, a.balance, COALESCE(t.total, 0), last.balance_after
          FROM {Account._meta.db_table} a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total, MAX(id) AS last_id
                       FROM {entry} GROUP BY account_id) t ON t.account_id = a.id
          LEFT JOIN {entry} last ON last.id = t.last_id
         WHERE a.balance <> COALESCE(t.total, 0)
            OR (last.id IS NOT NULL AND last.balance_after <> t.total)
         ORDER BY a.id
         LIMIT {MAX_FINDINGS_PER_CHECK}
    """
    findings = []
    for account_id, balance, total, last_balance_after in _rows(sql):
        if balance != total:
            findings.append(
                Finding(
                    kind=Kind.BALANCE_MISMATCH,
                    account_id=account_id,
                    expected=total,
                    actual=balance,
                    detail=f"Account {account_id}: cached balance {balance} but its entries sum to {total}.",
                )
            )
        if last_balance_after is not None and last_balance_after != total:
            findings.append(
                Finding(
                    kind=Kind.BALANCE_MISMATCH,
                    account_id=account_id,
                    expected=total,
                    actual=last_balance_after,
                    detail=f"Account {account_id}: last entry's balance_after {last_balance_after} "
                    f"but its entries sum to {total}; the running balance is broken.",
                )
            )
    return findings


def find_held_mismatches() -> list[Finding]:
    sql = f"""
        SELECT a.id, a.held, COALESCE(h.total, 0)
          FROM {Account._meta.db_table} a
          LEFT JOIN (SELECT account_id, SUM(amount) AS total
                       FROM {Hold._meta.db_table} WHERE status = %s GROUP BY account_id) h ON h.account_id = a.id
         WHERE a.held <> COALESCE(h.total, 0)
         ORDER BY a.id
         LIMIT {MAX_FINDINGS_PER_CHECK}
    """
    return [
        Finding(
            kind=Kind.HELD_MISMATCH,
            account_id=account_id,
            expected=pending,
            actual=held,
            detail=f"Account {account_id}: cached held {held} but its pending holds sum to {pending}.",
        )
        for account_id, held, pending in _rows(sql, [HoldStatus.PENDING.value])
    ]


def find_processor_mismatch() -> list[Finding]:
    """What the processor clearing account says against what the top-up records say.

    Clearing goes negative by amount + fee as each top-up succeeds (the processor
    owes us that money) and back up by each refund or dispute withdrawal paid out,
    unless that came back. No top-ups and no clearing account yet is a match at zero.
    """
    clearing = Account.objects.filter(system_code=PROCESSOR_CLEARING).only("pk", "balance").first()
    actual = clearing.balance if clearing is not None else 0
    charged = (
        TopUp.objects.filter(status__in=TOPUP_CHARGED_STATUSES).aggregate(total=Sum(F("amount") + F("fee")))["total"] or 0
    )
    # A refund row whose money came back (refused by Stripe, dispute won) carries its reversal.
    refunded = TopUpRefund.objects.filter(reversal_transaction__isnull=True).aggregate(total=Sum("amount"))["total"] or 0
    expected = -charged + refunded
    if actual == expected:
        return []
    return [
        Finding(
            kind=Kind.PROCESSOR_MISMATCH,
            account_id=clearing.pk if clearing is not None else None,
            expected=expected,
            actual=actual,
            detail=f"Processor clearing is {actual} but top-ups ({charged} charged incl. fees) "
            f"and refunds ({refunded}) say {expected}.",
        )
    ]


# --- Plumbing ---------------------------------------------------------------


def _rows(sql: str, params=None) -> list[tuple]:
    """Integer rows: PostgreSQL's SUM over bigint is numeric, which arrives as Decimal."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return [tuple(None if value is None else int(value) for value in row) for row in cursor.fetchall()]


@contextmanager
def _consistent_snapshot():
    """On PostgreSQL, one read-only REPEATABLE READ transaction for all checks.

    Inside an outer transaction (a test, or a caller's atomic block) the outer
    transaction's snapshot is used as it is.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _record(findings: list[Finding], *, run_at: datetime) -> int:
    """Store findings not already open as identical issues; log every finding. Returns how many were new."""
    new = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        for finding in findings:
            fields = {**asdict(finding), "detail": finding.detail[:300]}
            known = ReconciliationIssue.objects.filter(resolved_at__isnull=True, **fields).exists()
            if not known:
                ReconciliationIssue.objects.create(run_at=run_at, **fields)
                new += 1
            log.error("reconciliation_issue", already_recorded=known, **fields)
    return new
