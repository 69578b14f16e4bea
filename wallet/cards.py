"""Student cards: issue, freeze, replace; guardian funding and caps; terminal charges and refunds.

Every write that can race with a charge takes the student's card-account lock
first, so status changes, cap changes and charges are serialised per student.
"""


from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.services import audit_record
from core import clock
from guardians.errors import PermissionMissing
from guardians.models import GuardianLink, Student, User
from wallet import accounts, ledger
from wallet.card_charge import ChargeApproved, card_charge  # noqa: F401  (the sale's public names)
from wallet.card_identifiers import card_identifier_hash, normalise_card_identifier
from wallet.card_transfer import card_transfer
from wallet.errors import (
    AmountOutOfRange,
    CardIdentifierTaken,
    CardStateInvalid,
    ChargeNotFound,
    RefundExceedsCharge,
    RefundWindowClosed,
    UnknownCategory,
)
from wallet.models import (
    Account,
    CardCharge,
    CardChargeRefund,
    CardStatus,
    MerchantCategory,
    SpendingControls,
    StudentCard,
    Terminal,
)

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
    """Move money from the guardian's wallet to the child's card balance (wallet/card_transfer.py)."""
    return card_transfer(link=link, amount=amount, reference=reference, to_card=True).transaction


def card_withdraw(*, link: GuardianLink, amount: int, reference: str):
    """Move money from the child's card balance back to the guardian's wallet (wallet/card_transfer.py)."""
    return card_transfer(link=link, amount=amount, reference=reference, to_card=False).transaction


# --- Terminal charges -------------------------------------------------------
# The sale itself: wallet/card_charge.py (one call to the wallet_card_charge function).

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
