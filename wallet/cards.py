"""Student cards: issue, freeze, replace; guardian funding and caps; terminal charges and refunds.

Every write that can race with a charge takes the student's card-account lock
first, so status changes, cap changes and charges are serialised per student.
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from audit.services import audit_record
from guardians import clock, school_time
from guardians.errors import PermissionMissing
from guardians.models import GuardianLink, Student, User
from guardians.prepared import PreparedRead, insert_instance
from wallet import accounts, ledger, webhook_events
from wallet.charge_categories import charge_categories
from wallet.errors import (
    AmountOutOfRange,
    CardFrozen,
    CardIdentifierTaken,
    CardStateInvalid,
    CategoryBanned,
    ChargeNotFound,
    DailyCapExceeded,
    RefundExceedsCharge,
    RefundWindowClosed,
    UnknownCard,
    UnknownCategory,
    WeeklyCapExceeded,
)
from wallet.models import (
    Account,
    CardCharge,
    CardChargeRefund,
    CardStatus,
    Merchant,
    MerchantCategory,
    SpendingControls,
    StudentCard,
    Terminal,
)
from wallet.notifications import notify_low_balance_if_crossed

# --- Identifiers ------------------------------------------------------------


def normalise_card_identifier(raw: str) -> str:
    """Spaces and dashes are how numbers are printed, not part of them."""
    return "".join(raw.split()).replace("-", "").upper()


def card_identifier_hash(raw: str) -> str:
    key = settings.CARD_IDENTIFIER_KEY.encode()
    return hmac.new(key, normalise_card_identifier(raw).encode(), hashlib.sha256).hexdigest()


# Every tap at a terminal: compiled once (guardians/prepared.py). The school's acceptance of the merchant
# is part of the one query, so a card the merchant may not charge takes the same path as a card that does
# not exist: no row.
_CARD_FOR_MERCHANT = PreparedRead(
    lambda identifier_hash, merchant_id: StudentCard.objects.select_related("student__school")
    .filter(
        identifier_hash=identifier_hash,
        student__school__card_acceptances__merchant_id=merchant_id,
        student__school__card_acceptances__disabled_at__isnull=True,
    )
    .order_by("pk")[:1],
    identifier_hash=str,
    merchant_id=int,
)


def card_for_merchant(raw: str, merchant: Merchant) -> StudentCard | None:
    """The card behind an identifier, if the card's school lets this merchant charge it; else None, as for
    a card that does not exist, so a terminal learns nothing about other schools' cards."""
    return _CARD_FOR_MERCHANT.first(identifier_hash=card_identifier_hash(raw), merchant_id=merchant.pk)


# --- Issue and status -------------------------------------------------------


def card_issue(*, student: Student, identifier: str, issued_by: User | None) -> StudentCard:
    """Register a physical card for a student. An earlier live card is marked replaced; the balance stays."""
    account = accounts.student_card_account(student)
    normalised = normalise_card_identifier(identifier)
    try:
        with transaction.atomic(durable=True):
            ledger.lock_accounts([account.pk])
            previous = StudentCard.objects.filter(student=student, status__in=[CardStatus.ACTIVE, CardStatus.FROZEN]).first()
            if previous is not None:
                _set_status(previous, CardStatus.REPLACED, issued_by)
            card = StudentCard.objects.create(
                student=student,
                identifier_hash=card_identifier_hash(normalised),
                identifier_last4=normalised[-4:],
                status_changed_by=issued_by,
            )
            if previous is not None:
                StudentCard.objects.filter(pk=previous.pk).update(replaced_by=card)
            audit_record(
                action="card.issue",
                object_type="wallet.student_card",
                object_id=card.pk,
                school_id=student.school_id,
                after={"student_id": student.pk, "status": card.status, "identifier_last4": card.identifier_last4},
                details={"replaced_card_id": previous.pk if previous else None},
                actor=issued_by,
            )
            return card
    except IntegrityError:
        raise CardIdentifierTaken() from None


# Which status a guardian's action moves a card to, from which statuses.
CARD_ACTIONS = {
    "freeze": ({CardStatus.ACTIVE}, CardStatus.FROZEN),
    "unfreeze": ({CardStatus.FROZEN}, CardStatus.ACTIVE),
    "report_lost": ({CardStatus.ACTIVE, CardStatus.FROZEN}, CardStatus.LOST),
}


def card_change_status(*, link: GuardianLink, card: StudentCard, action: str) -> StudentCard:
    """Freeze, unfreeze or report lost. Freezing again is harmless (idempotent)."""
    _require_money_permission(link)
    allowed_from, target = CARD_ACTIONS[action]
    account = accounts.student_card_account(card.student)
    with transaction.atomic(durable=True):
        ledger.lock_accounts([account.pk])
        card.refresh_from_db()
        if card.status == target:
            return card
        if card.status not in allowed_from:
            raise CardStateInvalid(f"A {card.status} card cannot be {action.replace('_', ' ')}.")
        _set_status(card, target, link.guardian.user)
    return card


def _set_status(card: StudentCard, status: str, user: User | None) -> None:
    card.status = status
    card.status_changed_at = clock.now()
    card.status_changed_by = user
    card.save(update_fields=["status", "status_changed_at", "status_changed_by"])


# --- Controls ---------------------------------------------------------------


def spending_controls_for(student: Student) -> SpendingControls:
    controls, _ = SpendingControls.objects.get_or_create(student=student)
    return controls


def spending_controls_update(*, link: GuardianLink, **changes) -> SpendingControls:
    """Set caps, banned categories and the low-balance threshold. Takes effect for the next charge."""
    _require_money_permission(link)
    unknown = set(changes.get("banned_categories") or []) - set(MerchantCategory.values)
    if unknown:
        raise UnknownCategory(f"Unknown categories: {sorted(unknown)}")
    account = accounts.student_card_account(link.student)
    spending_controls_for(link.student)
    with transaction.atomic(durable=True):
        ledger.lock_accounts([account.pk])
        controls = SpendingControls.objects.get(student=link.student)
        for name, value in changes.items():
            setattr(controls, name, value)
        controls.updated_at = clock.now()
        controls.updated_by = link.guardian.user
        controls.save()
    return controls


# --- Guardian funding -------------------------------------------------------


def card_fund(*, link: GuardianLink, amount: int, reference: str):
    """Move money from the guardian's wallet to the child's card balance."""
    _require_money_permission(link)
    _check_amount(amount, maximum=settings.TOPUP_MAX_CENTS * 10)
    wallet = accounts.guardian_wallet(link.guardian)
    card_account = accounts.student_card_account(link.student)
    return ledger.transfer(
        kind="card_fund",
        reference=reference,
        legs=[ledger.Leg(wallet.pk, -amount), ledger.Leg(card_account.pk, amount)],
        actor=f"user:{link.guardian.user_id}",
        memo=f"To {link.student.first_name}'s card",
        metadata={"student_id": link.student_id},
    )


def card_withdraw(*, link: GuardianLink, amount: int, reference: str):
    """Move money from the child's card balance back to the guardian's wallet."""
    _require_money_permission(link)
    _check_amount(amount, maximum=ledger.MAX_AMOUNT)
    wallet = accounts.guardian_wallet(link.guardian)
    card_account = accounts.student_card_account(link.student)
    transferred = ledger.transfer(
        kind="card_withdraw",
        reference=reference,
        legs=[ledger.Leg(card_account.pk, -amount), ledger.Leg(wallet.pk, amount)],
        actor=f"user:{link.guardian.user_id}",
        memo=f"From {link.student.first_name}'s card",
        metadata={"student_id": link.student_id},
    )
    return transferred


# --- Terminal charges -------------------------------------------------------


@dataclass(frozen=True)
class ChargeApproved:
    charge: CardCharge
    remaining_balance: int
    replayed: bool = False


def card_charge(
    *,
    terminal: Terminal,
    card_identifier: str,
    amount: int,
    categories: list[str] | None,
    description: str,
    idempotency_key: str,
    card: StudentCard | None = None,
) -> ChargeApproved:
    """Charge a student's card at a merchant terminal.

    Before any card is read: the amount is in range and the charge's categories are the merchant's
    registered ones, narrowed to `categories` (wallet/charge_categories.py). A card whose school has not
    enabled the merchant is an unknown card. Then, under the student's account lock, in this order: the
    card is active, no category is banned, the school-local day and week stay within the caps, and the
    balance covers the amount. Declines raise a PaymentRefusedError with a stable code and write nothing.
    """
    _check_amount(amount, maximum=settings.CARD_CHARGE_MAX_CENTS)
    categories = charge_categories(merchant=terminal.merchant, requested=categories)
    reference = f"card_charge:terminal:{terminal.pk}:{idempotency_key}"
    already = _CHARGE_BY_REFERENCE.first(reference=reference)
    if already is not None:
        return ChargeApproved(already, accounts.student_card_account(already.student).available, replayed=True)

    # A caller that already looked the card up (with card_for_merchant) passes it.
    card = card or card_for_merchant(card_identifier, terminal.merchant)
    if card is None:
        raise UnknownCard()

    try:
        return _card_charge_locked(
            terminal=terminal,
            card=card,
            amount=amount,
            categories=categories,
            description=description,
            reference=reference,
        )
    except IntegrityError:
        # The same key raced itself past the check above; the winner's charge is the answer.
        already = CardCharge.objects.filter(transaction__reference=reference).first()
        if already is None:
            raise
        return ChargeApproved(already, accounts.student_card_account(already.student).available, replayed=True)


# The reads of every card charge, compiled once (guardians/prepared.py).
_CHARGE_BY_REFERENCE = PreparedRead(
    lambda reference: CardCharge.objects.filter(transaction__reference=reference).select_related("student").order_by("pk")[:1],
    reference=str,
)


def _card_charge_locked(*, terminal, card, amount, categories, description, reference) -> ChargeApproved:
    student = card.student
    with transaction.atomic(durable=True):
        locked, card_account, payable = accounts.lock_card_and_payable(student, terminal.merchant)
        # Read once, under the lock: the card's status, the controls (no row: no caps, no bans) and the
        # day's and week's spending.
        card.status, controls, spent_day, spent_week = _card_state(card, student)
        if card.status != CardStatus.ACTIVE:
            raise CardFrozen(f"This card is {card.status}.")
        banned = sorted(set(categories) & set(controls.banned_categories))
        if banned:
            raise CategoryBanned(banned_categories=banned)
        for cap, spent, error in ((controls.daily_cap, spent_day, DailyCapExceeded), (controls.weekly_cap, spent_week, WeeklyCapExceeded)):
            if cap is not None and spent + amount > cap:
                raise error(cap=cap, spent=spent)
        account = locked[card_account.pk]
        balance_before = account.available
        posted = ledger.post_locked(
            accounts=locked,
            kind="card_charge",
            reference=reference,
            legs=[ledger.Leg(card_account.pk, -amount), ledger.Leg(payable.pk, amount)],
            actor=f"terminal:{terminal.pk}",
            memo=description or terminal.merchant.name,
            metadata={"merchant_id": terminal.merchant_id, "categories": categories},
        )
        charge = insert_instance(
            CardCharge(
                terminal=terminal,
                merchant=terminal.merchant,
                student=student,
                card=card,
                amount=amount,
                categories=categories,
                description=description[:200],
                transaction=posted,
            )
        )
        webhook_events.card_charged_publish(charge=charge)
        remaining = account.available
        threshold = controls.low_balance_threshold
        # robust: the charge is committed; a failing notice is logged, never a 500 for the terminal.
        transaction.on_commit(
            lambda: notify_low_balance_if_crossed(student_id=student.pk, before=balance_before, after=remaining, threshold=threshold),
            robust=True,
        )
    return ChargeApproved(charge, remaining)


def _card_state(card: StudentCard, student: Student) -> tuple[str, SpendingControls, int, int]:
    """The card's status, the student's spending controls (an unsaved default when none are set) and
    the net spending (charges less refunds) in the school-local day and week, which the caps count.

    One plain statement on the charge path, run under the account lock: as three ORM queries they
    cost the worker more than the rest of the charge (docs/performance.md).
    """
    school = student.school
    day, week = school_time.day_window(school), school_time.week_window(school)
    adapt = connection.ops.adapt_datetimefield_value
    spent = (
        f"(SELECT COALESCE(SUM(amount - refunded_amount), 0) FROM {CardCharge._meta.db_table} "
        "WHERE student_id = %s AND created_at >= %s AND created_at < %s)"
    )
    sql = (
        f"SELECT c.status, s.id, s.daily_cap, s.weekly_cap, s.banned_categories, s.low_balance_threshold, {spent}, {spent} "
        f"FROM {StudentCard._meta.db_table} c LEFT JOIN {SpendingControls._meta.db_table} s ON s.student_id = c.student_id "
        "WHERE c.id = %s"
    )
    params = [student.pk, adapt(day[0]), adapt(day[1]), student.pk, adapt(week[0]), adapt(week[1]), card.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        status, controls_id, daily_cap, weekly_cap, banned, threshold, spent_day, spent_week = cursor.fetchone()
    if controls_id is None:
        controls = SpendingControls(student=student)
    else:  # a read-only copy of the row, for the checks and the low-balance threshold
        banned = SpendingControls._meta.get_field("banned_categories").from_db_value(banned, None, connection)
        controls = SpendingControls(
            id=controls_id, student=student, daily_cap=daily_cap, weekly_cap=weekly_cap, banned_categories=banned,
            low_balance_threshold=threshold,
        )
    return status, controls, int(spent_day), int(spent_week)


def card_charge_refund(*, terminal: Terminal, charge_id: int, amount: int | None, idempotency_key: str) -> CardChargeRefund:
    """A merchant refunds all or part of its own charge within the refund window: a reversing transaction."""
    charge = CardCharge.objects.filter(pk=charge_id, merchant=terminal.merchant).select_related("student").first()
    if charge is None:
        raise ChargeNotFound()
    # The charge is part of the reference: one key can never refund two different charges.
    reference = f"card_charge_refund:terminal:{terminal.pk}:charge:{charge.pk}:{idempotency_key}"
    already = CardChargeRefund.objects.filter(transaction__reference=reference).first()
    if already is not None:
        return already
    if clock.now() - charge.created_at > settings.CARD_REFUND_WINDOW:
        raise RefundWindowClosed()
    try:
        return _card_charge_refund_locked(terminal=terminal, charge=charge, amount=amount, reference=reference)
    except IntegrityError:
        # The same key raced itself; the winner's refund is the answer.
        already = CardChargeRefund.objects.filter(transaction__reference=reference).first()
        if already is None:
            raise
        return already


def _card_charge_refund_locked(*, terminal: Terminal, charge: CardCharge, amount: int | None, reference: str) -> CardChargeRefund:
    card_account = accounts.student_card_account(charge.student)
    payable = accounts.merchant_payable(terminal.merchant)
    with transaction.atomic(durable=True):
        locked = ledger.lock_accounts([card_account.pk, payable.pk])
        charge.refresh_from_db(fields=["refunded_amount"])
        if amount is not None:
            _check_amount(amount, maximum=ledger.MAX_AMOUNT)
        refund_amount = charge.net_amount if amount is None else amount
        if refund_amount == 0 or refund_amount > charge.net_amount:  # nothing left, or more than is left
            raise RefundExceedsCharge(refundable=charge.net_amount)
        posted = ledger.reverse_locked(
            accounts=locked,
            original=charge.transaction,
            reference=reference,
            actor=f"terminal:{terminal.pk}",
            legs=[ledger.Leg(payable.pk, -refund_amount), ledger.Leg(card_account.pk, refund_amount)],
            memo=f"Refund of charge {charge.pk}",
        )
        refunded_before = charge.refunded_amount
        CardCharge.objects.filter(pk=charge.pk).update(refunded_amount=F("refunded_amount") + refund_amount)
        charge.refresh_from_db(fields=["refunded_amount"])
        refund = CardChargeRefund.objects.create(charge=charge, terminal=terminal, amount=refund_amount, transaction=posted)
        audit_record(
            action="card.charge_refund",
            object_type="wallet.card_charge",
            object_id=charge.pk,
            school_id=charge.student.school_id,
            before={"refunded_amount": refunded_before},
            after={"refunded_amount": charge.refunded_amount},
            details={"amount": refund_amount, "refund_id": refund.pk, "refund_transaction_id": posted.pk},
            terminal=terminal,
        )
        return refund


# --- Helpers ----------------------------------------------------------------


def _require_money_permission(link: GuardianLink) -> None:
    if not link.is_active or not link.can_manage_money:
        raise PermissionMissing("Your link to this student does not allow managing money.")


def _check_amount(amount: int, *, maximum: int) -> None:
    if type(amount) is not int or not 0 < amount <= maximum:
        raise AmountOutOfRange(f"The amount must be between 1 and {maximum} cents.", minimum=1, maximum=maximum)


def student_balance(student: Student) -> Account:
    return accounts.student_card_account(student)
