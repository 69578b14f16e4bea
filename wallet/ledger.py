"""Posting to the ledger: the only code that writes Entries, balances and holds.

Two layers, in the Zulip manner:

- `*_locked` functions assume the caller is inside a transaction and holds the
  row locks of every account they touch (taken with `lock_accounts`). Domain
  services that must lock more than accounts (a card, a voucher, stock) use these.
- `transfer` wraps the whole dance for the simple case: durable transaction,
  locks in primary-key order, validation after locking, write, cached balances.

Validation happens after the locks are taken, never before: a balance read
without the lock is a guess.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from core import clock
from core.locks import lock_objects, lock_timeout_set
from wallet.errors import InsufficientFunds
from wallet.models import Account, Entry, Hold, HoldStatus, LedgerTransaction

# No single movement is larger than this ($100,000): anything bigger is a bug or an attack.
MAX_AMOUNT = 10_000_000


@dataclass(frozen=True)
class Leg:
    account_id: int
    amount: int


def validate_amount(amount) -> int:
    """Amounts are positive integer cents. Booleans and floats are refused, not coerced."""
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise ValueError(f"amount must be an integer number of cents in 1..{MAX_AMOUNT}, got {amount!r}")
    return amount


def lock_accounts(account_ids: Iterable[int]) -> dict[int, Account]:
    """SELECT ... FOR UPDATE the accounts in primary-key order (core/locks.py), so concurrent writers
    never deadlock and none waits longer than the lock timeout."""
    ids = sorted(set(account_ids))
    lock_timeout_set()  # as the money functions of wallet/sql/ do: the setting as it is now, not as the connection opened
    accounts = {account.pk: account for account in lock_objects(Account.objects.filter(pk__in=ids))}
    if len(accounts) != len(ids):
        raise Account.DoesNotExist(f"accounts {sorted(set(ids) - set(accounts))} do not exist")
    for account in accounts.values():
        _expire_stale_holds_locked(account)
    return accounts


def existing_transaction(reference: str) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(reference=reference).first()


def post_locked(
    *,
    accounts: dict[int, Account],
    kind: str,
    reference: str,
    legs: list[Leg],
    actor: str,
    memo: str = "",
    metadata: dict | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Append one balanced transaction and update the cached balances.

    Invariants: two or more non-zero legs summing to zero, every account locked
    by the caller and of one currency, and no account that forbids it ends below
    zero available (balance minus holds). Raises InsufficientFunds otherwise.
    """
    if len(legs) < 2 or sum(leg.amount for leg in legs) != 0:
        raise ValueError(f"unbalanced transaction {reference}: {legs}")
    if any(type(leg.amount) is not int or leg.amount == 0 for leg in legs):
        raise ValueError(f"legs must be non-zero integer cents: {legs}")
    if any(leg.account_id not in accounts for leg in legs):
        raise RuntimeError("post_locked needs every account locked by the caller")
    if len({accounts[leg.account_id].currency for leg in legs}) != 1:
        raise ValueError("all legs of a transaction share one currency")

    new_balances: dict[int, int] = {}
    for leg in legs:
        account = accounts[leg.account_id]
        new_balances[account.pk] = new_balances.get(account.pk, account.balance) + leg.amount
    for account_id, balance in new_balances.items():
        account = accounts[account_id]
        if not account.allow_negative and balance - account.held < 0:
            raise InsufficientFunds(available=account.available)

    now = clock.now()
    ledger_transaction = LedgerTransaction.objects.create(
        kind=kind, reference=reference, memo=memo[:300], actor=actor, metadata=metadata or {}, reverses=reverses, created_at=now
    )
    running = {account_id: accounts[account_id].balance for account_id in new_balances}
    rows = []
    for leg in legs:
        running[leg.account_id] += leg.amount
        rows.append((ledger_transaction.pk, leg.account_id, leg.amount, running[leg.account_id]))
    _insert_entries(rows, created_at=now)
    for account_id, balance in new_balances.items():
        accounts[account_id].balance = balance
    _update_balances(new_balances)
    return ledger_transaction


# The two statements every posting makes, written as SQL: through the ORM, building and compiling
# them cost the worker 3-5 times the round trip (docs/performance.md). The database's own checks
# (balanced transactions, append-only entries, non-negative balances) apply to them exactly as to
# ORM writes.
_ENTRY_COLUMNS = "transaction_id, account_id, amount, balance_after, created_at"


def _insert_entries(rows: list[tuple[int, int, int, int]], *, created_at: datetime) -> None:
    when = connection.ops.adapt_datetimefield_value(created_at)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in (*row, when)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Entry._meta.db_table} ({_ENTRY_COLUMNS}) VALUES {values}", params)


def _update_balances(new_balances: dict[int, int]) -> None:
    """One UPDATE for every account the transaction touches (a CASE on the primary key), not one each."""
    cases = " ".join(["WHEN %s THEN %s"] * len(new_balances))
    ids = ", ".join(["%s"] * len(new_balances))
    params = [value for account_id, balance in new_balances.items() for value in (account_id, balance)] + list(new_balances)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Account._meta.db_table} SET balance = CASE id {cases} END WHERE id IN ({ids})", params)


def transfer(
    *,
    kind: str,
    reference: str,
    legs: list[Leg],
    actor: str,
    memo: str = "",
    metadata: dict | None = None,
) -> LedgerTransaction:
    """Post one transaction in its own durable transaction; the same reference posts once.

    A repeat of an already-posted reference returns the original, so callers may
    retry freely (a webhook delivered twice, a client retrying a timeout).
    """
    already = existing_transaction(reference)
    if already is not None:
        return already
    try:
        with transaction.atomic(durable=True):
            accounts = lock_accounts(leg.account_id for leg in legs)
            return post_locked(
                accounts=accounts, kind=kind, reference=reference, legs=legs, actor=actor, memo=memo, metadata=metadata
            )
    except IntegrityError:
        already = existing_transaction(reference)
        if already is None:
            raise
        return already


def reverse_locked(
    *,
    accounts: dict[int, Account],
    original: LedgerTransaction,
    reference: str,
    actor: str,
    memo: str = "",
    legs: list[Leg] | None = None,
) -> LedgerTransaction:
    """Post the mirror image of `original`, or the given (partial) legs, linked to it."""
    if legs is None:
        legs = [Leg(entry.account_id, -entry.amount) for entry in original.entries.all()]
    return post_locked(
        accounts=accounts,
        kind=f"{original.kind}_reversal",
        reference=reference,
        legs=legs,
        actor=actor,
        memo=memo or f"Reversal of {original.reference}",
        reverses=original,
    )


# --- Holds (two-phase transfers) -------------------------------------------


def hold_place_locked(
    *,
    accounts: dict[int, Account],
    account_id: int,
    counterparty_id: int,
    amount: int,
    kind: str,
    reference: str,
    expires_at: datetime,
    memo: str = "",
) -> Hold:
    """Reserve `amount` of an account's available balance until `expires_at`.

    Only `account_id` must be locked: the counterparty is named, not touched (no money moves to it until
    the hold is posted, under both locks). A canteen's payable would otherwise be locked by every
    pre-order of its school."""
    validate_amount(amount)
    account = accounts[account_id]
    if not account.allow_negative and account.available < amount:
        raise InsufficientFunds(available=account.available)
    hold = Hold.objects.create(
        account_id=account_id,
        counterparty_id=counterparty_id,
        amount=amount,
        kind=kind,
        reference=reference,
        expires_at=expires_at,
        memo=memo[:300],
    )
    account.held += amount
    Account.objects.filter(pk=account_id).update(held=account.held)
    return hold


def hold_post_locked(*, accounts: dict[int, Account], hold: Hold, actor: str) -> LedgerTransaction | None:
    """Turn a pending hold into a posted transaction. Returns None if it was no longer pending."""
    hold.refresh_from_db()
    if hold.status != HoldStatus.PENDING:
        return hold.posted_transaction
    account = accounts[hold.account_id]
    account.held -= hold.amount
    Account.objects.filter(pk=account.pk).update(held=account.held)
    posted = post_locked(
        accounts=accounts,
        kind=hold.kind,
        reference=f"hold:{hold.reference}",
        legs=[Leg(hold.account_id, -hold.amount), Leg(hold.counterparty_id, hold.amount)],
        actor=actor,
        memo=hold.memo,
    )
    Hold.objects.filter(pk=hold.pk).update(status=HoldStatus.POSTED, posted_transaction=posted, resolved_at=clock.now())
    hold.refresh_from_db()
    return posted


def hold_void_locked(*, accounts: dict[int, Account], hold: Hold) -> bool:
    """Release a pending hold. Returns False if it was not pending (already posted or voided)."""
    voided = Hold.objects.filter(pk=hold.pk, status=HoldStatus.PENDING).update(
        status=HoldStatus.VOIDED, resolved_at=clock.now()
    )
    if voided:
        account = accounts[hold.account_id]
        account.held -= hold.amount
        Account.objects.filter(pk=account.pk).update(held=account.held)
    hold.refresh_from_db()
    return bool(voided)


def _expire_stale_holds_locked(account: Account) -> None:
    """Void this account's pending holds whose time has passed (the account is locked)."""
    if account.held == 0:
        return
    stale = Hold.objects.filter(account=account, status=HoldStatus.PENDING, expires_at__lte=clock.now())
    released = stale.aggregate(total=Sum("amount"))["total"] or 0
    if released:
        stale.update(status=HoldStatus.VOIDED, resolved_at=clock.now())
        account.held -= released
        Account.objects.filter(pk=account.pk).update(held=account.held)
