"""Shared set-ups for wallet tests."""

import json
import uuid
from dataclasses import dataclass

import pytest
from django.db.models import Sum

from guardians.models import GuardianLink, Student
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory
from wallet.models import Account, Entry, LedgerTransaction, StudentCard


@dataclass
class CardWorld:
    link: GuardianLink
    student: Student
    card: StudentCard
    card_number: str
    guardian_client: object
    terminal_client: object


@pytest.fixture
def card_world(client_for, terminal_client):
    """A guardian linked (with money permission) to a student with a live card, and a canteen terminal."""
    link = GuardianLinkFactory()
    card = StudentCardFactory(student=link.student, identifier="CARD-0000-0042")
    return CardWorld(
        link=link,
        student=link.student,
        card=card,
        card_number="CARD-0000-0042",
        guardian_client=client_for(link.guardian.user),
        terminal_client=terminal_client(MerchantFactory(school=link.student.school)),
    )


def assert_ledger_consistent():
    """Money is neither created nor lost: every transaction balances, every cached balance matches its entries."""
    unbalanced = (
        LedgerTransaction.objects.annotate(total=Sum("entries__amount")).exclude(total=0).values_list("reference", flat=True)
    )
    assert list(unbalanced) == []
    for account in Account.objects.all():
        entries_total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == entries_total, account.name
        if not account.allow_negative:
            assert account.balance - account.held >= 0, account.name
    assert (Account.objects.aggregate(total=Sum("balance"))["total"] or 0) == 0


# --- Card payments (top-ups, Stripe webhook, refunds, automatic top-up) --------------

WEBHOOK_SECRET = "whsec_test_tuckbox_payments"


@pytest.fixture
def payments(settings):
    """Webhook secret, fees, and Celery running tasks in-process (it reads its config at setup, so set it there)."""
    from config.celery import app

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TOPUP_MIN_CENTS = 500
    settings.TOPUP_MAX_CENTS = 50_000
    settings.TOPUP_FEE_FIXED_CENTS = 30
    settings.TOPUP_FEE_BASIS_POINTS = 175
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield settings
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def send_event(api_client, django_capture_on_commit_callbacks):
    """POST a Stripe event to the webhook, signed for real, and run what it enqueues after commit."""
    from tests.wallet.fake_stripe import stripe_signature

    def send(event: dict | str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, signature: str | None = None):
        payload = event if isinstance(event, str) else json.dumps(event)
        header = signature if signature is not None else stripe_signature(payload, secret, timestamp)
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(
                "/api/v1/webhooks/stripe", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )

    return send


@pytest.fixture
def paid_topup(send_event, fake_stripe):
    """A top-up of `amount` for `guardian`, credited through a signed payment_intent.succeeded."""
    from tests.wallet import fake_stripe as events
    from wallet.models import TopUp
    from wallet.topups import topup_fee

    def make(guardian, amount: int) -> TopUp:
        topup = TopUp.objects.create(
            guardian=guardian, amount=amount, fee=topup_fee(amount), payment_intent_id=f"pi_test_{uuid.uuid4().hex[:16]}"
        )
        fake_stripe.register_intent(topup.payment_intent_id, topup.total_charged)
        response = send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
        assert response.status_code == 200, response.content
        topup.refresh_from_db()
        assert topup.status == TopUp.Status.SUCCEEDED
        return topup

    return make
