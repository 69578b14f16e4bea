"""Paying an event fee by card, through the wallet's Stripe top-ups.

A card payment is a top-up of exactly the fee (plus any card fee, shown first)
into the payer's wallet; when Stripe's verified webhook credits it, the fee is
paid on from the wallet to the event (`events.receivers` notices the credit).
So the wallet is credited only by Stripe, never by the client, and if the
place is gone by the time the card clears (deadline passed, event cancelled),
the money simply stays in the wallet, from where it can go back to the card.
"""

from dataclasses import dataclass

import structlog

from core.errors import DomainError
from core.notifications import notify
from events.errors import PaymentDeadlinePassed, SignupNotPayable
from events.models import UNPAID_PLACE, EventStatus, PaymentMethod, Signup
from events.rules import payment_overdue
from events.services.payments import signup_pay_wallet
from guardians.models import Guardian
from wallet import topups
from wallet.models import TopUp

log = structlog.get_logger("events.card_payments")


@dataclass(frozen=True)
class CardPaymentStarted:
    signup: Signup
    topup: TopUp
    client_secret: str
    publishable_key: str


def signup_card_payment_start(*, signup_id: int, payer: Guardian, request_key: str) -> CardPaymentStarted:
    """Create the PaymentIntent for a held place's fee. No lock is held across the call to Stripe;
    the fee is paid (under the locks, with the deadline checked again) when the card payment clears."""
    signup = Signup.objects.select_related("event").get(pk=signup_id)
    if signup.status not in UNPAID_PLACE or signup.event.status != EventStatus.PUBLISHED:
        raise SignupNotPayable(f"A {signup.status} sign-up has nothing to pay.")
    if payment_overdue(signup):
        raise PaymentDeadlinePassed()
    started = topups.topup_create(guardian=payer, amount=signup.amount_due, request_key=f"event-fee:{signup.pk}:{request_key}")
    Signup.objects.filter(pk=signup.pk).update(card_topup=started.topup)
    signup.card_topup = started.topup
    return CardPaymentStarted(signup=signup, topup=started.topup, client_secret=started.client_secret, publishable_key=started.publishable_key)


def signup_pay_after_topup(*, topup_id: int) -> list[Signup]:
    """The card top-up behind a sign-up was credited: pay the fee on from the wallet. Safe to run twice."""
    topup = TopUp.objects.select_related("guardian__user").get(pk=topup_id)
    if topup.status != TopUp.Status.SUCCEEDED:
        return []
    paid = []
    for signup in Signup.objects.filter(card_topup=topup, payment_transaction__isnull=True).select_related("event", "student"):
        try:
            if signup.status not in UNPAID_PLACE:
                raise SignupNotPayable(f"the place is {signup.status.replace('_', ' ')}")
            paid.append(signup_pay_wallet(signup_id=signup.pk, payer=topup.guardian, actor="stripe", method=PaymentMethod.CARD))
        except DomainError as refused:
            log.info("card_payment_kept_in_wallet", signup_id=signup.pk, topup_id=topup.pk, code=refused.code)
            notify(
                users=[topup.guardian.user],
                kind="event_signup",
                title=f"Your card payment for {signup.event.title} is in your wallet",
                body=f"The place for {signup.student.first_name} could not be paid ({refused.message}). The money is in your Tuckbox wallet; you can use it or send it back to your card.",
                data={"event_id": signup.event_id, "signup_id": signup.pk, "topup_id": topup.pk},
                dedupe_key=f"event_card_kept:{signup.pk}:{topup.pk}",
            )
    return paid
