"""Looking up, previewing, redeeming and voiding vouchers at a merchant's terminal.

A redemption is valid only when the server says so. Under the vouchers' row locks
(taken in primary-key order), then the ledger accounts' (funding, payable, in
primary-key order), every rule is checked again, and one balanced transaction moves
the amount used from the program's funding account to the merchant's payable
account. Fifty terminals racing for one voucher therefore get one success; the
others find it redeemed (409 `voucher_already_redeemed`).
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import audit_record
from guardians import clock
from guardians.errors import DomainError
from guardians.prepared import INT_LIST, PreparedRead, insert_instance, update_row
from vouchers import numbers, rules, tokens, webhook_events
from vouchers.errors import (
    AmountExceedsRemaining,
    DateOfBirthMismatch,
    DateOfBirthRequired,
    RedemptionAlreadyVoided,
    RedemptionNotFound,
    StackingNotAllowed,
    StackMismatch,
    VoidWindowClosed,
    VoucherNotFound,
    VoucherNumberInvalid,
)
from vouchers.models import Redemption, RedemptionLine, UseRule, Voucher, VoucherState
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


# The reads of every scan and redemption, compiled once (guardians/prepared.py).
_VOUCHER_BY_NUMBER = PreparedRead(
    lambda number: Voucher.objects.select_related("program", "issue_window", "student", "beneficiary_user__voucher_beneficiary", "holder")
    .filter(number=number)
    .order_by("pk")[:1],
    number=str,
)
_REDEMPTION_BY_REFERENCE = PreparedRead(
    lambda reference: Redemption.objects.filter(reference=reference).order_by("pk")[:1], reference=str
)
_VOUCHERS_LOCKED = PreparedRead(
    lambda voucher_ids: Voucher.objects.select_for_update(of=("self",))
    .select_related("program", "issue_window__program")
    .filter(pk__in=voucher_ids)
    .order_by("pk"),
    voucher_ids=INT_LIST,
)


def _voucher_by_number(number: str) -> Voucher:
    voucher = _VOUCHER_BY_NUMBER.first(number=number)
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
    caller's Idempotency-Key) makes a retry return the first redemption.
    """
    already = _REDEMPTION_BY_REFERENCE.first(reference=reference)
    if already is not None:
        return Redeemed(already, replayed=True)
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

    try:
        with transaction.atomic(durable=True):
            return Redeemed(
                _redeem_locked(
                    terminal=terminal,
                    voucher_ids=[voucher.pk for voucher in found],
                    amount=amount,
                    category=category,
                    description=description,
                    reference=reference,
                )
            )
    except IntegrityError:
        already = Redemption.objects.filter(reference=reference).first()
        if already is None:
            raise
        return Redeemed(already, replayed=True)


def _lock_vouchers(voucher_ids) -> list[Voucher]:
    return _VOUCHERS_LOCKED.all(voucher_ids=sorted(set(voucher_ids)))


def _redeem_locked(*, terminal, voucher_ids, amount, category, description, reference) -> Redemption:
    vouchers = _lock_vouchers(voucher_ids)
    program = vouchers[0].program
    locked, _, payable = accounts.lock_account_and_payable(program.funding_account_id, terminal.merchant)
    payable_id = payable.pk
    now = clock.now()

    booked = rules.check_all(
        vouchers=vouchers, merchant=terminal.merchant, approval=rules.approval_for(program, terminal.merchant), now=now, category=category
    )
    available = sum(voucher.remaining_value for voucher in vouchers)
    if amount > available:
        raise AmountExceedsRemaining(remaining=available, amount=amount)

    posted = ledger.post_locked(
        accounts=locked,
        kind="voucher_redemption",
        reference=reference,
        legs=[ledger.Leg(program.funding_account_id, -amount), ledger.Leg(payable_id, amount)],
        actor=f"terminal:{terminal.pk}",
        memo=(description or f"{program.name} voucher")[:300],
        metadata={"program_id": program.pk, "merchant_id": terminal.merchant_id, "category": booked},
    )
    redemption = insert_instance(
        Redemption(
            program=program,
            merchant=terminal.merchant,
            terminal=terminal,
            beneficiary_key=vouchers[0].beneficiary_key,
            category=booked,
            amount=amount,
            description=description[:200],
            reference=reference,
            transaction=posted,
            created_at=now,
        )
    )
    lines = []
    left = amount
    for voucher in sorted(vouchers, key=lambda v: (v.expires_at, v.pk)):
        if left == 0:
            break
        applied = min(left, voucher.remaining_value)
        left -= applied
        voucher.remaining_value -= applied
        forfeited = 0
        if program.use_rule == UseRule.SINGLE_USE:
            forfeited, voucher.remaining_value = voucher.remaining_value, 0
            voucher.forfeited_value += forfeited
        voucher.state = VoucherState.REDEEMED if voucher.remaining_value == 0 else VoucherState.PARTLY_REDEEMED
        update_row(Voucher, voucher.pk, {"remaining_value": voucher.remaining_value, "forfeited_value": voucher.forfeited_value, "state": voucher.state})
        lines.append(insert_instance(RedemptionLine(redemption=redemption, voucher=voucher, amount=applied, forfeited_amount=forfeited)))
    # The lines as `redemption.lines.all()` will answer them, vouchers included: the receipt needs no re-read.
    redemption._prefetched_objects_cache = {"lines": lines}
    webhook_events.voucher_redeemed_publish(redemption=redemption, voucher_ids=[line.voucher_id for line in lines])
    return redemption


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
        locked = ledger.lock_accounts([redemption.program.funding_account_id, payable.pk])
        redemption = Redemption.objects.select_for_update(of=("self",)).get(pk=redemption.pk)
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
