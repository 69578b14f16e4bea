"""Paying event fees and refunding them. One balanced ledger transaction per movement.

Fees move from the payer's wallet (or, for a card, from processor clearing) to
the event's own fees account, so what an event collected is that account's
balance. Ledger references are per sign-up (`event_fee:signup:<id>`,
`event_refund:signup:<id>`): a sign-up is paid once and refunded once,
whatever the retries.
"""

from django.db import transaction

from core import clock
from core.locks import lock_one
from events import notices, webhook_events
from events.errors import PaymentDeadlinePassed, SignupAlreadyPaid, SignupNotFound, SignupNotPayable
from events.models import UNPAID_PLACE, Event, EventStatus, PaymentMethod, Signup, SignupStatus
from events.rules import payment_overdue
from guardians.models import Guardian
from wallet import accounts, ledger
from wallet.models import Account, AccountKind, LedgerTransaction


def event_fees_account(event: Event) -> Account:
    return accounts.system_account(
        code=f"event_fees:{event.pk}", kind=AccountKind.EVENT_FEES, name=f"Event fees: {event.title}"[:120], allow_negative=False
    )


def fee_reference(signup_id: int) -> str:
    return f"event_fee:signup:{signup_id}"


def refund_reference(signup_id: int) -> str:
    return f"event_refund:signup:{signup_id}"


def _lock_payable(signup_id: int, *, now) -> tuple[Event, Signup]:
    event_id = Signup.objects.filter(pk=signup_id).values_list("event_id", flat=True).first()
    if event_id is None:
        raise SignupNotFound()
    event = lock_one(Event.objects.select_related("school").filter(pk=event_id))
    # FOR UPDATE: paying sets payment_transaction, a one-to-one column.
    signup = lock_one(Signup.objects.select_related("student", "guardian__user").filter(pk=signup_id), key=True)
    if signup.status == SignupStatus.CONFIRMED and signup.amount_paid == signup.amount_due:
        raise SignupAlreadyPaid()
    if signup.status not in UNPAID_PLACE or event.status != EventStatus.PUBLISHED:
        raise SignupNotPayable(f"A {signup.status} sign-up has nothing to pay.")
    if payment_overdue(signup, now=now):
        raise PaymentDeadlinePassed()
    return event, signup


def _confirm_paid_locked(*, event: Event, signup: Signup, payer: Guardian, method: str, posted: LedgerTransaction, now) -> Signup:
    signup.status = SignupStatus.CONFIRMED
    signup.status_changed_at = signup.paid_at = now
    signup.amount_paid = signup.amount_due
    signup.paid_by = payer
    signup.payment_method = method
    signup.payment_transaction = posted
    signup.save(update_fields=["status", "status_changed_at", "paid_at", "amount_paid", "paid_by", "payment_method", "payment_transaction"])
    signup.event = event
    notices.signup_changed(signup)
    webhook_events.signup_confirmed_publish(signup=signup)
    return signup


def signup_pay_wallet(*, signup_id: int, payer: Guardian, actor: str, method: str = PaymentMethod.WALLET) -> Signup:
    """Pay a held place's fee from the payer's wallet; the place is then confirmed.

    Lock order: event, sign-up, then the wallet and fees accounts (in primary-key
    order). Refused after the payment deadline, and for anything not awaiting payment.
    """
    now = clock.now()
    with transaction.atomic(durable=True):
        event, signup = _lock_payable(signup_id, now=now)
        wallet, fees = accounts.guardian_wallet(payer), event_fees_account(event)
        locked = ledger.lock_accounts([wallet.pk, fees.pk])
        posted = ledger.post_locked(
            accounts=locked,
            kind="event_fee",
            reference=fee_reference(signup.pk),
            legs=[ledger.Leg(wallet.pk, -signup.amount_due), ledger.Leg(fees.pk, signup.amount_due)],
            actor=actor,
            memo=f"{event.title}: {signup.student.first_name}",
            metadata={"event_id": event.pk, "signup_id": signup.pk, "student_id": signup.student_id},
        )
        return _confirm_paid_locked(event=event, signup=signup, payer=payer, method=method, posted=posted, now=now)


def refund_locked(*, signup: Signup, event: Event, amount: int, actor: str, memo: str) -> LedgerTransaction | None:
    """Return `amount` of a sign-up's fee to the payer's wallet (card payments too: the wallet can be
    withdrawn to the card). The caller holds the event and sign-up locks. Returns None if already refunded."""
    if signup.refund_transaction_id is not None or ledger.existing_transaction(refund_reference(signup.pk)) is not None:
        return None
    ledger.validate_amount(amount)
    wallet, fees = accounts.guardian_wallet(signup.paid_by), event_fees_account(event)
    locked = ledger.lock_accounts([wallet.pk, fees.pk])
    posted = ledger.reverse_locked(
        accounts=locked,
        original=signup.payment_transaction,
        reference=refund_reference(signup.pk),
        actor=actor,
        memo=memo,
        legs=[ledger.Leg(fees.pk, -amount), ledger.Leg(wallet.pk, amount)],
    )
    signup.refunded_amount += amount
    signup.refund_transaction = posted
    signup.save(update_fields=["refunded_amount", "refund_transaction"])
    return posted


def cancelled_signup_settle(*, signup_id: int) -> int:
    """Refund a sign-up of a cancelled event in full and tell the family. Safe to run any number of times;
    returns the cents refunded by this call."""
    with transaction.atomic(durable=True):
        # FOR UPDATE: a refund sets refund_transaction, a one-to-one column.
        signup = lock_one(Signup.objects.select_related("event__school", "student", "paid_by").filter(pk=signup_id), key=True)
        event = signup.event
        if event.status != EventStatus.CANCELLED or signup.status != SignupStatus.CANCELLED:
            return 0
        refund = 0
        owed = signup.amount_paid - signup.refunded_amount
        if owed > 0 and refund_locked(signup=signup, event=event, amount=owed, actor="system", memo=f"{event.title} cancelled"):
            refund = owed
        notices.event_cancelled(signup, refund=signup.refunded_amount)
    return refund


def event_cancellation_settle(*, event_id: int) -> int:
    """Settle every cancelled sign-up of a cancelled event, each in its own transaction."""
    ids = Signup.objects.filter(event_id=event_id, status=SignupStatus.CANCELLED).order_by("pk").values_list("pk", flat=True)
    return sum(cancelled_signup_settle(signup_id=signup_id) for signup_id in ids)
