"""Automatic top-up: once per fall below the threshold, off-session, credited by the webhook onto the card."""

import uuid
from dataclasses import dataclass

import pytest
from django.db import connection

from core.models import Notification
from guardians.models import GuardianLink, Student
from tests.concurrency import run_concurrently
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory, give_card_money
from tests.helpers import assert_problem
from tests.wallet import fake_stripe as events
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts, cards
from wallet.models import PaymentMethod, Terminal, TopUp
from wallet.terminal_keys import terminal_create
from wallet.topups import auto_topup_check

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments")]

AUTO_TOPUP = "/api/v1/wallet/auto-topup"


@dataclass
class Family:
    link: GuardianLink
    student: Student
    card_number: str
    terminal: Terminal
    method: PaymentMethod


def make_family(*, threshold=500, amount=2000, card_balance=1000, payment_method="pm_card_visa") -> Family:
    link = GuardianLinkFactory()
    number = f"CARD-{uuid.uuid4().hex[:10].upper()}"
    StudentCardFactory(student=link.student, identifier=number)
    terminal, _ = terminal_create(merchant=MerchantFactory(school=link.student.school), label="Counter")
    method = PaymentMethod.objects.create(
        guardian=link.guardian,
        stripe_customer_id=f"cus_{uuid.uuid4().hex[:10]}",
        stripe_payment_method_id=payment_method,
        brand="visa",
        last4="4242",
        auto_topup_enabled=True,
        auto_topup_threshold=threshold,
        auto_topup_amount=amount,
    )
    give_card_money(link.student, card_balance)
    return Family(link=link, student=link.student, card_number=number, terminal=terminal, method=method)


@pytest.fixture
def charge(django_capture_on_commit_callbacks):
    """A terminal charge through the card service, running what it does after commit (the auto top-up check)."""

    def run(family: Family, amount: int):
        with django_capture_on_commit_callbacks(execute=True):
            return cards.card_charge(
                terminal=family.terminal,
                card_identifier=family.card_number,
                amount=amount,
                categories=[],
                description="Recess",
                idempotency_key=str(uuid.uuid4()),
            )

    return run


def card_balance(student) -> int:
    return accounts.student_card_account(student).balance


def test_triggers_once_per_threshold_crossing_and_credits_the_card_from_the_webhook(fake_stripe, charge, send_event):
    family = make_family(threshold=500, amount=2000, card_balance=1000)

    charge(family, 300)  # 700: still above the threshold
    assert fake_stripe.calls("/v1/payment_intents") == []

    charge(family, 300)  # 400: below, the dip starts

    topup = TopUp.objects.get()
    assert (topup.automatic, topup.student_id, topup.guardian_id, topup.amount, topup.fee, topup.status) == (
        True, family.student.pk, family.link.guardian_id, 2000, 65, "pending"
    )
    [call] = fake_stripe.calls("/v1/payment_intents")
    assert (call.params["amount"], call.params["off_session"], call.params["confirm"]) == ("2065", "true", "true")
    assert (call.params["customer"], call.params["payment_method"]) == (family.method.stripe_customer_id, "pm_card_visa")
    assert call.metadata == {"topup_id": str(topup.pk), "guardian_id": str(topup.guardian_id), "student_id": str(family.student.pk), "automatic": "true"}
    assert call.idempotency_key == f"tuckbox-topup-{topup.pk}"
    assert topup.payment_intent_id.startswith("pi_")
    assert card_balance(family.student) == 400  # nothing until Stripe's webhook says so

    charge(family, 100)  # 300: the same dip, no second top-up
    charge(family, 50)
    assert TopUp.objects.count() == 1 and len(fake_stripe.calls("/v1/payment_intents")) == 1

    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))

    topup.refresh_from_db()
    assert topup.status == "succeeded"
    assert card_balance(family.student) == 250 + 2000
    assert accounts.guardian_wallet(family.link.guardian).balance == 0  # through the wallet, on to the card
    notice = Notification.objects.get(user=family.link.guardian.user, kind="auto_topup_succeeded")
    assert notice.data == {"topup_id": topup.pk, "student_id": family.student.pk, "amount": 2000, "fee": 65}

    charge(family, 2000)  # 250: back above in between, so this is a new dip
    assert TopUp.objects.count() == 2 and len(fake_stripe.calls("/v1/payment_intents")) == 2
    assert_ledger_consistent()


def test_a_declined_card_fails_the_topup_notifies_and_does_not_retry_in_the_same_dip(fake_stripe, charge, send_event):
    family = make_family(payment_method=events.DECLINED_METHOD)

    charge(family, 600)  # 400

    topup = TopUp.objects.get()
    assert (topup.status, topup.failure_code) == ("failed", "insufficient_funds")
    assert topup.payment_intent_id  # Stripe's failed PaymentIntent, so its webhook finds the top-up
    assert Notification.objects.filter(user=family.link.guardian.user, kind="auto_topup_failed").count() == 1
    failed = events.payment_intent(topup, status="requires_payment_method", error={"code": "card_declined", "decline_code": "insufficient_funds"})
    send_event(events.event("payment_intent.payment_failed", failed))
    assert Notification.objects.filter(kind="auto_topup_failed").count() == 1  # once per top-up

    charge(family, 100)
    assert TopUp.objects.count() == 1
    assert card_balance(family.student) == 300
    assert_ledger_consistent()


def test_nothing_happens_without_a_saved_card_or_when_disabled(fake_stripe, charge):
    family = make_family()
    PaymentMethod.objects.filter(pk=family.method.pk).update(auto_topup_enabled=False)

    charge(family, 800)

    assert TopUp.objects.count() == 0 and fake_stripe.calls() == []


def test_the_guardian_linked_longest_tops_up(fake_stripe, charge):
    family = make_family()
    second = GuardianLinkFactory(student=family.student)
    PaymentMethod.objects.create(
        guardian=second.guardian, stripe_customer_id="cus_second", stripe_payment_method_id="pm_second",
        auto_topup_enabled=True, auto_topup_threshold=900, auto_topup_amount=5000,
    )

    charge(family, 600)

    assert list(TopUp.objects.values_list("guardian_id", "amount")) == [(family.link.guardian_id, 2000)]


def test_fake_gateway_end_to_end(settings, charge):
    settings.PAYMENT_GATEWAY = "fake"
    family = make_family(threshold=500, amount=2000, card_balance=1000)

    charge(family, 700)

    topup = TopUp.objects.get()
    assert topup.status == "succeeded" and topup.payment_intent_id.startswith("pi_fake_")
    assert card_balance(family.student) == 300 + 2000
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_in_one_dip_start_one_topup(payments, fake_stripe):
    family = make_family(card_balance=300)  # already below 500

    def check(_):
        return auto_topup_check(family.student.pk)

    started = run_concurrently(check, 10)
    connection.close()

    assert sum(1 for topup in started if topup is not None) == 1
    assert TopUp.objects.count() == 1
    assert len(fake_stripe.calls("/v1/payment_intents")) == 1


# --- Settings through the API ---------------------------------------------------------


def test_auto_topup_needs_a_saved_card(client_for):
    link = GuardianLinkFactory()
    client = client_for(link.guardian.user)
    assert_problem(client.patch(AUTO_TOPUP, {"enabled": True, "threshold": 500, "amount": 2000}, format="json"), 409, "payment_method_required")


def test_auto_topup_settings(client_for):
    family = make_family()
    PaymentMethod.objects.filter(pk=family.method.pk).update(auto_topup_enabled=False, auto_topup_threshold=None, auto_topup_amount=None)
    client = client_for(family.link.guardian.user)

    assert_problem(client.patch(AUTO_TOPUP, {"enabled": True}, format="json"), 422, "auto_topup_incomplete")
    body = assert_problem(client.patch(AUTO_TOPUP, {"enabled": True, "threshold": 500, "amount": 100}, format="json"), 422, "amount_out_of_range")
    assert body["details"] == {"minimum": 500, "maximum": 50_000}
    for bad in ({}, {"amount": "20"}, {"threshold": 0}, {"threshold": 1.5}, {"enabled": "maybe"}):
        assert_problem(client.patch(AUTO_TOPUP, bad, format="json"), 400, "validation_error")
    assert PaymentMethod.objects.get().auto_topup_enabled is False

    response = client.patch(AUTO_TOPUP, {"enabled": True, "threshold": 500, "amount": 2000}, format="json")

    assert response.status_code == 200
    assert response.json()["auto_topup"] == {"enabled": True, "threshold": 500, "amount": 2000}
    assert client.patch(AUTO_TOPUP, {"enabled": False}, format="json").json()["auto_topup"] == {"enabled": False, "threshold": 500, "amount": 2000}
