"""Looking up, previewing, redeeming and voiding vouchers at a merchant's terminal.

A redemption is valid only when the server says so. One call to the database
(`vouchers_redeem`, vouchers/sql/voucher_redeem.pg.sql) takes the vouchers' row locks
in primary-key order, checks every rule again under them, and moves the amount used
from each voucher's own reserve account (vouchers/reserves.py) to the merchant's
payable account, in one transaction with one commit. Fifty terminals racing for one
voucher therefore get one success; the others find it redeemed (409
`voucher_already_redeemed`). The program's funding account is not locked.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction

from audit.services import audit_record
from core import clock
from core.errors import DomainError
from core.locks import lock_objects, lock_one
from core.webhooks.publish import delivery_enqueue
from vouchers import numbers, periods, queries, reserves, rules, tokens
from vouchers.errors import (
    DateOfBirthMismatch,
    DateOfBirthRequired,
    ProviderAlreadyUsedThisTerm,
    RedemptionAlreadyVoided,
    RedemptionNotFound,
    StackingNotAllowed,
    StackMismatch,
    VoidWindowClosed,
    VoucherNotFound,
    VoucherNumberInvalid,
)
from vouchers.models import Redemption, RedemptionLine, Voucher, VoucherState
from vouchers.redeem_decision import redeem_decide, refusal_error
from wallet import accounts, ledger
from wallet.errors import AmountOutOfRange
from wallet.models import Terminal


@dataclass(frozen=True)
class Credential:
    """What a terminal presents: a scanned QR payload, or a typed number; a date of birth
    with a printed code or a typed number."""

    qr: str | None = None
    number: str | None = None
    date_of_birth: date | None = None


def _voucher_by_number(number: str) -> Voucher:
    voucher = queries.voucher_by_number(number)
    if voucher is None:
        raise VoucherNotFound()
    return voucher


def _beneficiary_date_of_birth(voucher: Voucher) -> date | None:
    if voucher.student_id:
        return voucher.student.date_of_birth
    profile = getattr(voucher.beneficiary_user, "voucher_beneficiary", None)
    return profile.date_of_birth if profile else None


def _check_date_of_birth(voucher: Voucher, given: date) -> None:
    if _beneficiary_date_of_birth(voucher) != given:
        raise DateOfBirthMismatch()


def voucher_lookup(*, credential: Credential) -> Voucher:
    """The voucher a credential opens, or a LookupFailure (which the API counts per terminal).

    Order matters: the signature is checked before any query, and the date of birth is
    demanded before the number is looked up, so a malformed request learns nothing.
    """
    if credential.qr is not None:
        token = tokens.parse(credential.qr)
        if token.mode == tokens.MODE_PRINTED and credential.date_of_birth is None:
            raise DateOfBirthRequired()
        voucher = _voucher_by_number(token.number)
        if token.mode == tokens.MODE_APP:
            tokens.totp_check(secret_hex=voucher.totp_secret, code=token.code, now=clock.now())
        else:
            _check_date_of_birth(voucher, credential.date_of_birth)
        return voucher
    if credential.date_of_birth is None:
        raise DateOfBirthRequired()
    number = numbers.normalise(credential.number or "")
    if number is None:
        raise VoucherNumberInvalid()
    voucher = _voucher_by_number(number)
    _check_date_of_birth(voucher, credential.date_of_birth)
    return voucher


# --- Preview --------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    voucher: Voucher
    state: str
    refusal: DomainError | None
    categories: list[str]

    @property
    def can_redeem(self) -> bool:
        return self.refusal is None


def voucher_preview(*, terminal: Terminal, credential: Credential) -> Preview:
    """What the cashier needs before taking the voucher: which program, what is left, whose it
    is, and whether this merchant may redeem it now (and if not, why). Writes nothing."""
    voucher = voucher_lookup(credential=credential)
    now = clock.now()
    approval = rules.approval_for(voucher.program, terminal.merchant)
    categories: list[str] = []
    try:
        rules.check_state(voucher, now)
        rules.check_approval(approval, voucher.program, now)
        categories = rules.redeemable_categories(voucher, approval)
        if not categories:
            rules.resolve_category([voucher], approval, None)
        rules.check_weekday(voucher, now)
        rules.check_one_provider(voucher, terminal.merchant)
        rules.check_once_per_term([voucher], terminal.merchant, now)
        refusal = None
    except DomainError as exc:
        refusal = exc
    return Preview(voucher=voucher, state=voucher.state_at(now), refusal=refusal, categories=categories)


# --- Redeem ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeemed:
    """A new redemption comes with its receipt's lines (`receipt_lines`); a replayed one is read again by the caller."""

    redemption: Redemption
    replayed: bool = False


def voucher_redeem(
    *,
    terminal: Terminal,
    credentials: list[Credential],
    amount: int,
    category: str | None,
    description: str,
    reference: str,
) -> Redeemed:
    """Spend `amount` of one voucher, or of several stacked ones (soonest expiry first).

    Single-use vouchers forfeit what the payment leaves on them. `reference` (from the
    caller's Idempotency-Key) makes a retry return the first redemption. The decision and
    every write, the webhook outbox included, are one call to the database
    (vouchers/sql/voucher_redeem.pg.sql) in one transaction with one commit; its refusals come back
    as codes, raised here as their errors.
    """
    try:
        found = _credentials_checked(credentials=credentials, amount=amount)
    except DomainError:
        # A retry after the first answer may carry a rotating code that has gone stale since.
        already = Redemption.objects.filter(reference=reference).first()
        if already is None:
            raise
        return Redeemed(already, replayed=True)

    first = found[0]
    program = first.program
    term_since = term_until = None
    if program.once_per_term:
        term_begins, term_ends, term_since, term_until = _term_window(first)
    # One statement, so no savepoint: inside the terminal's request it runs in the Idempotency-Key's
    # transaction (the key, the redemption and the stored answer commit together, api/idempotency.py),
    # whose claim lets one request at a time hold a reference; the function answers a retry `replayed`.
    decided = redeem_decide(
        voucher_ids=[voucher.pk for voucher in found],
        terminal=terminal,
        amount=amount,
        category=category,
        description=description,
        memo=(description or f"{program.name} voucher")[:300],
        reference=reference,
        now=clock.now(),
        term_since=term_since,
        term_until=term_until,
    )
    if decided.code == "replayed":
        return Redeemed(Redemption.objects.get(pk=decided.redemption_id), replayed=True)
    if decided.code != "ok":
        if decided.code == "provider_already_used_this_term":
            raise ProviderAlreadyUsedThisTerm(counts_from=term_begins.isoformat(), counts_until=term_ends.isoformat())
        raise refusal_error(decided.code, decided.details, program=program)
    for delivery_id in decided.delivery_ids:
        delivery_enqueue(delivery_id)
    if decided.forfeited:
        for voucher_id in decided.voucher_ids:
            reserves.reserve_release_enqueue(voucher_id)
    redemption, lines = _receipt(decided, found, terminal=terminal, amount=amount, description=description, reference=reference)
    setattr(redemption, Redemption.RECEIPT_LINES, lines)
    return Redeemed(redemption)


def _receipt(
    decided, vouchers: list[Voucher], *, terminal: Terminal, amount: int, description: str, reference: str
) -> tuple[Redemption, list[RedemptionLine]]:
    """The redemption and its lines as `vouchers_redeem` wrote them, loaded from its answer (not read back):
    what the caller passed, the ids and the category it chose, and each line with its voucher's new values."""
    first = vouchers[0]
    redemption = Redemption.from_db(
        connection.alias,
        _REDEMPTION_FIELDS,
        [
            decided.redemption_id, first.program_id, terminal.merchant_id, terminal.pk, first.beneficiary_key,
            decided.category, amount, description[:200], reference, decided.transaction_id,
            decided.now, None, None, None, None, None,
        ],
    )
    redemption.program = first.program
    by_id = {voucher.pk: voucher for voucher in vouchers}
    lines = []
    for written_line in decided.lines:
        line = RedemptionLine.from_db(
            connection.alias,
            _LINE_FIELDS,
            [written_line["id"], redemption.pk, written_line["voucher_id"], written_line["amount"], written_line["forfeited_amount"]],
        )
        voucher = by_id[written_line["voucher_id"]]
        voucher.remaining_value = written_line["remaining_value"]
        voucher.forfeited_value = written_line["forfeited_value"]
        voucher.state = written_line["state"]
        line.redemption, line.voucher = redemption, voucher
        lines.append(line)
    return redemption, lines


# The rows vouchers_redeem inserts, in the order `_receipt` gives their values.
_REDEMPTION_FIELDS = [
    "id", "program_id", "merchant_id", "terminal_id", "beneficiary_key", "category", "amount", "description", "reference",
    "transaction_id", "created_at", "voided_at", "voided_by_id", "void_transaction_id", "settlement_id", "void_settlement_id",
]
_LINE_FIELDS = ["id", "redemption_id", "voucher_id", "amount", "forfeited_amount"]


def _credentials_checked(*, credentials: list[Credential], amount: int) -> list[Voucher]:
    """The vouchers the credentials open, checked for what needs no lock: the amount's range and the stack."""
    if type(amount) is not int or not 0 < amount <= settings.VOUCHER_MAX_REDEMPTION_CENTS:
        raise AmountOutOfRange(f"The amount must be between 1 and {settings.VOUCHER_MAX_REDEMPTION_CENTS} cents.")

    found = [voucher_lookup(credential=credential) for credential in credentials]
    if len({voucher.pk for voucher in found}) != len(found):
        raise StackMismatch("The same voucher was presented twice.")
    program = found[0].program
    if len(found) > 1:
        if any(v.program_id != program.pk or v.beneficiary_key != found[0].beneficiary_key for v in found):
            raise StackMismatch()
        if not program.stackable:
            raise StackingNotAllowed()
    return found


def _term_window(voucher: Voucher):
    """The once-per-term window of a redemption now: local first and last days, and the instants they span."""
    today = clock.local_today(voucher.time_zone)
    begins, ends = periods.term_window(school_id=voucher.school_id, today=today)
    since = periods.end_of_local_day(begins - timedelta(days=1), voucher.time_zone)
    return begins, ends, since, periods.end_of_local_day(ends, voucher.time_zone)


def _lock_vouchers(voucher_ids) -> list[Voucher]:
    return lock_objects(Voucher.objects.select_related("program", "issue_window__program").filter(pk__in=sorted(set(voucher_ids))))


# --- Void -----------------------------------------------------------------------------


def redemption_void(*, terminal: Terminal, redemption_id: int) -> Redemption:
    """The merchant that took a redemption takes it back within VOUCHER_VOID_WINDOW.

    A reversing ledger transaction (payable -> funding) and the vouchers restored as they
    were, forfeits included. A void after settlement leaves the payable owing, netted
    by the next settlement.
    """
    redemption = Redemption.objects.filter(pk=redemption_id, merchant_id=terminal.merchant_id).first()
    if redemption is None:
        raise RedemptionNotFound()
    if redemption.voided_at is not None:
        raise RedemptionAlreadyVoided()
    if clock.now() - redemption.created_at > settings.VOUCHER_VOID_WINDOW:
        raise VoidWindowClosed(void_until=(redemption.created_at + settings.VOUCHER_VOID_WINDOW).isoformat())
    payable = accounts.merchant_payable(terminal.merchant)
    with transaction.atomic(durable=True):
        lines = list(redemption.lines.all())
        vouchers = {voucher.pk: voucher for voucher in _lock_vouchers([line.voucher_id for line in lines])}
        # A void is rare: it may lock the program's funding, to put back what a forfeit or expiry released.
        locked = ledger.lock_accounts(
            [redemption.program.funding_account_id, payable.pk, *(voucher.reserve_account_id for voucher in vouchers.values())]
        )
        redemption = lock_one(Redemption.objects.filter(pk=redemption.pk), key=True)  # void_transaction, one-to-one, is set
        if redemption.voided_at is not None:
            raise RedemptionAlreadyVoided()
        reversal = ledger.reverse_locked(
            accounts=locked,
            original=redemption.transaction,
            reference=f"voucher_redemption_void:{redemption.pk}",
            actor=f"terminal:{terminal.pk}",
            memo=f"Void of voucher redemption {redemption.pk}",
        )
        for line in lines:
            voucher = vouchers[line.voucher_id]
            voucher.remaining_value += line.amount + line.forfeited_amount
            voucher.forfeited_value -= line.forfeited_amount
            if voucher.state in (VoucherState.REDEEMED, VoucherState.PARTLY_REDEEMED):
                voucher.state = VoucherState.ISSUED if voucher.remaining_value == voucher.face_value else VoucherState.PARTLY_REDEEMED
            voucher.save(update_fields=["remaining_value", "forfeited_value", "state"])
            reserves.reserve_settle_locked(voucher=voucher, accounts=locked, actor=f"terminal:{terminal.pk}")
        redemption.voided_at = clock.now()
        redemption.voided_by = terminal
        redemption.void_transaction = reversal
        redemption.save(update_fields=["voided_at", "voided_by", "void_transaction"])
        audit_record(
            action="voucher_redemption.void",
            object_type="vouchers.redemption",
            object_id=redemption.pk,
            program_id=redemption.program_id,
            before={"voided_at": None},
            after={"voided_at": redemption.voided_at},
            details={"amount": redemption.amount, "void_transaction_id": reversal.pk, "voucher_ids": sorted(vouchers)},
            terminal=terminal,
        )
    return redemption
