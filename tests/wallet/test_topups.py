"""Card top-ups, the fee quote, refunds of unused balance to the card, and the fake gateway's simulate flow."""

import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from core import clock
from tests.concurrency import run_concurrently
from tests.factories import GuardianFactory, StaffFactory, give_wallet_money
from tests.helpers import assert_problem
from tests.wallet import fake_stripe as events
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts, ledger
from wallet.gateway import get_gateway
from wallet.models import LedgerTransaction, PaymentMethod, StripeEvent, TopUp, TopUpRefund
from wallet.topups import round_half_up, topup_fee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments")]

TOPUPS = "/api/v1/wallet/topups"
REFUNDS = "/api/v1/wallet/refunds"


def key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


@pytest.fixture
def guardian():
    return GuardianFactory()


@pytest.fixture
def client(guardian, client_for):
    return client_for(guardian.user)


# --- Fee and quote ------------------------------------------------------------------


def test_fee_is_fixed_plus_basis_points_rounded_half_up_once():
    assert [round_half_up(n, 10) for n in (0, 14, 15, 16, 25)] == [0, 1, 2, 2, 3]
    assert topup_fee(2000) == 30 + 35  # 1.75 % of 2000 = 35 exactly
    assert topup_fee(1010) == 30 + 18  # 17.675 rounds to 18
    assert topup_fee(1000) == 30 + 18  # 17.5 rounds half up


def test_quote_shows_the_fee_before_paying(client):
    response = client.get(f"{TOPUPS}/quote", {"amount": "2000"})

    assert response.status_code == 200
    assert response.json() == {"amount": 2000, "fee": 65, "total": 2065, "currency": "AUD"}


@pytest.mark.parametrize("amount", ["0", "-5", "1.5", "1e3", "true", "abc", "", "0500"])
def test_quote_refuses_what_is_not_whole_cents(client, amount):
    assert_problem(client.get(f"{TOPUPS}/quote", {"amount": amount}), 400, "validation_error")


def test_quote_outside_the_allowed_range_is_422_with_the_limits(client):
    body = assert_problem(client.get(f"{TOPUPS}/quote", {"amount": "50001"}), 422, "amount_out_of_range")
    assert body["details"] == {"minimum": 500, "maximum": 50_000}
    assert_problem(client.get(f"{TOPUPS}/quote", {"amount": "499"}), 422, "amount_out_of_range")


def test_topups_are_for_guardians_only(client_for, fake_stripe):
    staff = client_for(StaffFactory().user)
    assert_problem(staff.get(f"{TOPUPS}/quote", {"amount": "2000"}), 403, "permission_denied")
    assert_problem(staff.post(TOPUPS, {"amount": 2000}, format="json", **key()), 403, "permission_denied")
    assert_problem(APIClient().get(TOPUPS), 401, "not_authenticated")
    assert TopUp.objects.count() == 0 and fake_stripe.calls() == []


# --- Creating a top-up -----------------------------------------------------------------


def test_topup_creates_a_payment_intent_for_amount_plus_fee_and_credits_nothing(client, guardian, fake_stripe):
    response = client.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="topup-1")

    assert response.status_code == 201, response.content
    body = response.json()
    topup = TopUp.objects.get()
    [call] = fake_stripe.calls("/v1/payment_intents")
    assert call.params["amount"] == "2065" and call.params["currency"] == "aud"
    assert call.params["payment_method_types[0]"] == "card"
    assert call.metadata == {"topup_id": str(topup.pk), "guardian_id": str(guardian.pk)}
    assert call.idempotency_key == f"tuckbox-topup-{topup.pk}"
    assert call.authorization == "Bearer sk_test_tuckbox_fake"
    assert body["client_secret"].startswith(f"{body['payment_intent_id']}_secret_")
    assert body == {
        "id": topup.pk,
        "amount": 2000,
        "fee": 65,
        "total": 2065,
        "currency": "AUD",
        "status": "pending",
        "automatic": False,
        "student_id": None,
        "payment_intent_id": topup.payment_intent_id,
        "failure_code": "",
        "refunded_amount": 0,
        "created_at": body["created_at"],
        "succeeded_at": None,
        "client_secret": body["client_secret"],
        "publishable_key": "pk_test_tuckbox_fake",
    }
    assert topup.request_key == f"guardian:{guardian.pk}:topup-1"
    assert LedgerTransaction.objects.count() == 0
    assert accounts.guardian_wallet(guardian).balance == 0


def test_a_retried_topup_replays_and_makes_one_payment_intent(client, fake_stripe):
    first = client.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    again = client.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TopUp.objects.count() == 1 and len(fake_stripe.calls("/v1/payment_intents")) == 1
    assert_problem(client.post(TOPUPS, {"amount": 3000}, format="json", HTTP_IDEMPOTENCY_KEY="same"), 422, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": 0}, 400, "validation_error"),
        ({"amount": -5}, 400, "validation_error"),
        ({"amount": 1.5}, 400, "validation_error"),
        ({"amount": "10"}, 400, "validation_error"),
        ({"amount": True}, 400, "validation_error"),
        ({"amount": None}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"amount": 10**15}, 400, "validation_error"),
        ({"amount": 50_001}, 422, "amount_out_of_range"),
        ({"amount": 499}, 422, "amount_out_of_range"),
    ],
)
def test_bad_amounts_write_nothing(client, fake_stripe, body, status, code):
    assert_problem(client.post(TOPUPS, body, format="json", **key()), status, code)
    assert TopUp.objects.count() == 0 and fake_stripe.calls() == []


def test_a_topup_without_idempotency_key_is_refused(client, fake_stripe):
    assert_problem(client.post(TOPUPS, {"amount": 2000}, format="json"), 400, "idempotency_key_required")
    assert TopUp.objects.count() == 0 and fake_stripe.calls() == []


def test_stripe_down_is_503_and_the_same_key_can_retry(client, fake_stripe):
    fake_stripe.fail_next("/v1/payment_intents", status=500)

    assert_problem(client.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="k"), 503, "payment_gateway_unavailable")
    retry = client.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert retry.status_code == 201
    assert TopUp.objects.count() == 1  # the same top-up, asked of Stripe with the same key
    assert {call.idempotency_key for call in fake_stripe.calls("/v1/payment_intents")} == {f"tuckbox-topup-{retry.json()['id']}"}
    assert LedgerTransaction.objects.count() == 0


def test_a_guardian_sees_only_their_own_topups(client, guardian, client_for, fake_stripe):
    mine = client.post(TOPUPS, {"amount": 2000}, format="json", **key()).json()
    other = GuardianFactory()
    theirs = client_for(other.user).post(TOPUPS, {"amount": 3000}, format="json", **key()).json()

    listing = client.get(TOPUPS)
    assert listing.status_code == 200
    assert [topup["id"] for topup in listing.json()["results"]] == [mine["id"]]
    assert "client_secret" not in listing.json()["results"][0]
    assert client.get(f"{TOPUPS}/{mine['id']}").json()["amount"] == 2000
    assert_problem(client.get(f"{TOPUPS}/{theirs['id']}"), 404, "not_found")
    assert_problem(client.get(f"{TOPUPS}/999999"), 404, "not_found")


def test_the_succeeded_webhook_shows_on_the_topup(client, guardian, fake_stripe, send_event):
    created = client.post(TOPUPS, {"amount": 2000}, format="json", **key()).json()
    topup = TopUp.objects.get(pk=created["id"])

    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))

    detail = client.get(f"{TOPUPS}/{topup.pk}").json()
    assert detail["status"] == "succeeded" and detail["succeeded_at"] is not None
    assert accounts.guardian_wallet(guardian).balance == 2000
    assert_ledger_consistent()


# --- Fake gateway: the whole flow without a network --------------------------------


# Real commits: the webhook's processing runs after the receive commits, before simulate answers.
@pytest.mark.django_db(transaction=True)
def test_fake_gateway_simulate_credits_the_wallet_through_the_signed_webhook(client, guardian, fake_gateway):
    created = client.post(TOPUPS, {"amount": 2000}, format="json", **key())
    assert created.status_code == 201
    assert created.json()["payment_intent_id"].startswith("pi_fake_")

    response = client.post(f"{TOPUPS}/{created.json()['id']}/simulate", {"outcome": "succeeded"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "succeeded"
    event = StripeEvent.objects.get()
    assert event.type == "payment_intent.succeeded" and event.processed_at is not None
    assert accounts.guardian_wallet(guardian).balance == 2000
    topup = TopUp.objects.get()
    assert {e.account.system_code or e.account.kind: e.amount for e in topup.credit_transaction.entries.all()} == {
        "processor_clearing": -2065,
        "guardian_wallet": 2000,
        "platform_fees": 65,
    }
    assert_problem(client.post(f"{TOPUPS}/{topup.pk}/simulate", {"outcome": "succeeded"}, format="json"), 409, "topup_not_pending")
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_fake_gateway_simulated_failure_then_success(client, fake_gateway):
    topup_id = client.post(TOPUPS, {"amount": 2000}, format="json", **key()).json()["id"]

    failed = client.post(f"{TOPUPS}/{topup_id}/simulate", {"outcome": "failed"}, format="json")
    assert (failed.json()["status"], failed.json()["failure_code"]) == ("failed", "generic_decline")

    paid = client.post(f"{TOPUPS}/{topup_id}/simulate", {"outcome": "succeeded"}, format="json")
    assert paid.json()["status"] == "succeeded"


def test_simulate_is_a_404_with_the_real_gateway(client, fake_stripe):
    topup_id = client.post(TOPUPS, {"amount": 2000}, format="json", **key()).json()["id"]

    assert_problem(client.post(f"{TOPUPS}/{topup_id}/simulate", {"outcome": "succeeded"}, format="json"), 404, "not_found")
    assert StripeEvent.objects.count() == 0 and LedgerTransaction.objects.count() == 0


def test_simulate_validates_the_outcome_and_the_owner(client, client_for, fake_gateway):
    topup_id = client.post(TOPUPS, {"amount": 2000}, format="json", **key()).json()["id"]

    assert_problem(client.post(f"{TOPUPS}/{topup_id}/simulate", {"outcome": "maybe"}, format="json"), 400, "validation_error")
    stranger = client_for(GuardianFactory().user)
    assert_problem(stranger.post(f"{TOPUPS}/{topup_id}/simulate", {"outcome": "succeeded"}, format="json"), 404, "not_found")
    assert StripeEvent.objects.count() == 0


# --- Refunds of unused balance -----------------------------------------------------------


def test_refund_splits_across_the_newest_topups_and_charges_no_fee(client, guardian, paid_topup, fake_stripe, send_event):
    older, newer = paid_topup(guardian, 1000), paid_topup(guardian, 3000)

    response = client.post(REFUNDS, {"amount": 3500}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["currency"], body["wallet_available"]) == (3500, "AUD", 500)
    assert [(r["topup_id"], r["amount"], r["status"]) for r in body["refunds"]] == [(newer.pk, 3000, "succeeded"), (older.pk, 500, "succeeded")]
    calls = fake_stripe.calls("/v1/refunds")
    assert [(c.params["payment_intent"], c.params["amount"]) for c in calls] == [(newer.payment_intent_id, "3000"), (older.payment_intent_id, "500")]
    rows = list(TopUpRefund.objects.order_by("id"))
    assert [c.idempotency_key for c in calls] == [f"tuckbox-topup-refund-{row.pk}" for row in rows]
    assert [row.stripe_refund_id for row in rows] == [r["stripe_refund_id"] for r in body["refunds"]]
    for row in rows:
        assert {e.account.system_code or e.account.kind: e.amount for e in row.transaction.entries.all()} == {
            "guardian_wallet": -row.amount,
            "processor_clearing": row.amount,
        }
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (newer.status, newer.refunded_amount, older.status, older.refunded_amount) == ("refunded", 3000, "succeeded", 500)
    assert accounts.guardian_wallet(guardian).balance == 500
    assert accounts.platform_fees().balance == older.fee + newer.fee  # fees stay: the guardian paid them for the top-ups

    # Stripe then reports the refunds on the charges: nothing more is debited.
    send_event(events.event("charge.refunded", events.charge(newer, amount_refunded=3000)))
    send_event(events.event("charge.refunded", events.charge(older, amount_refunded=500)))
    assert accounts.guardian_wallet(guardian).balance == 500
    assert TopUpRefund.objects.count() == 2
    assert_ledger_consistent()


def test_refund_replay_does_not_refund_twice(client, guardian, paid_topup, fake_stripe):
    paid_topup(guardian, 2000)
    first = client.post(REFUNDS, {"amount": 700}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    again = client.post(REFUNDS, {"amount": 700}, format="json", HTTP_IDEMPOTENCY_KEY="r")

    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert len(fake_stripe.calls("/v1/refunds")) == 1
    assert accounts.guardian_wallet(guardian).balance == 1300


def test_refund_above_the_balance_is_refused_and_writes_nothing(client, guardian, paid_topup, fake_stripe):
    paid_topup(guardian, 2000)
    before = LedgerTransaction.objects.count()

    body = assert_problem(client.post(REFUNDS, {"amount": 2001}, format="json", **key()), 402, "insufficient_funds")

    assert body["details"] == {"available": 2000}
    assert LedgerTransaction.objects.count() == before and TopUpRefund.objects.count() == 0
    assert fake_stripe.calls("/v1/refunds") == []


def test_balance_that_came_from_no_card_cannot_be_refunded_to_one(client, guardian, paid_topup, fake_stripe):
    paid_topup(guardian, 1000)
    give_wallet_money(guardian, 5000)  # e.g. a cancelled excursion refunded to the wallet

    body = assert_problem(client.post(REFUNDS, {"amount": 1500}, format="json", **key()), 422, "refund_not_available")

    assert body["details"] == {"refundable": 1000}
    assert TopUpRefund.objects.count() == 0


@pytest.mark.parametrize("body", [{"amount": 0}, {"amount": -5}, {"amount": 1.5}, {"amount": "10"}, {"amount": True}, {}])
def test_refund_bad_amounts_write_nothing(client, guardian, paid_topup, body):
    paid_topup(guardian, 1000)
    before = LedgerTransaction.objects.count()
    assert_problem(client.post(REFUNDS, body, format="json", **key()), 400, "validation_error")
    assert_problem(client.post(REFUNDS, {"amount": 100}, format="json"), 400, "idempotency_key_required")
    assert LedgerTransaction.objects.count() == before and TopUpRefund.objects.count() == 0


def test_refund_stripe_refuses_puts_the_money_back(client, guardian, paid_topup, fake_stripe):
    topup = paid_topup(guardian, 2000)
    fake_stripe.fail_next(
        "/v1/refunds", status=400, error={"type": "invalid_request_error", "code": "charge_disputed", "message": "Disputed."}
    )

    response = client.post(REFUNDS, {"amount": 1200}, format="json", **key())

    assert response.status_code == 201
    [refund] = response.json()["refunds"]
    assert (refund["status"], refund["failure_code"], refund["stripe_refund_id"]) == ("failed", "charge_disputed", None)
    assert response.json()["wallet_available"] == 2000
    row = TopUpRefund.objects.get()
    assert row.reversal_transaction.reverses_id == row.transaction_id
    topup.refresh_from_db()
    assert (topup.status, topup.refunded_amount) == ("succeeded", 0)
    assert_ledger_consistent()


def test_refund_while_stripe_is_down_stays_pending_and_the_sweeper_sends_it(client, guardian, paid_topup, fake_stripe, time_machine):
    from wallet.topups import payments_sweep

    paid_topup(guardian, 2000)
    fake_stripe.fail_next("/v1/refunds", status=503)

    response = client.post(REFUNDS, {"amount": 1200}, format="json", **key())

    assert response.json()["refunds"][0]["status"] == "pending"
    assert accounts.guardian_wallet(guardian).balance == 800  # booked at once: it cannot be spent twice
    time_machine.move_to(TopUpRefund.objects.get().created_at.timestamp() + 600)

    assert payments_sweep()["refunds"] == 1

    row = TopUpRefund.objects.get()
    assert row.status == "succeeded" and row.stripe_refund_id
    calls = fake_stripe.calls("/v1/refunds")
    assert len(calls) == 2 and calls[0].idempotency_key == calls[1].idempotency_key == f"tuckbox-topup-refund-{row.pk}"
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_cannot_overdraw(payments, fake_stripe):
    guardian = GuardianFactory()
    wallet = accounts.guardian_wallet(guardian)
    clearing = accounts.processor_clearing()
    for amount in (2000, 2000):
        topup = TopUp.objects.create(guardian=guardian, amount=amount, fee=0, payment_intent_id=f"pi_conc_{uuid.uuid4().hex[:12]}")
        fake_stripe.register_intent(topup.payment_intent_id, amount)
        credit = ledger.transfer(
            kind="topup",
            reference=f"topup:{topup.payment_intent_id}",
            legs=[ledger.Leg(clearing.pk, -amount), ledger.Leg(wallet.pk, amount)],
            actor="test",
        )
        TopUp.objects.filter(pk=topup.pk).update(status="succeeded", succeeded_at=clock.now(), credit_transaction=credit)
    access = tokens_for_new_session(guardian.user)["access"]

    def refund(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client.post(REFUNDS, {"amount": 1500}, format="json", HTTP_IDEMPOTENCY_KEY=f"concurrent-{index}").status_code

    statuses = run_concurrently(refund, 8)
    connection.close()

    assert sorted(statuses) == [201, 201] + [402] * 6
    wallet.refresh_from_db()
    assert wallet.balance == 1000
    assert sum(TopUpRefund.objects.values_list("amount", flat=True)) == 3000
    assert sum(int(c.params["amount"]) for c in fake_stripe.calls("/v1/refunds")) == 3000
    for topup in TopUp.objects.all():
        assert topup.refunded_amount <= topup.amount
    assert_ledger_consistent()


# --- Saved card and the gateway's other calls ---------------------------------------------


def test_saving_a_card_goes_through_a_setup_intent_and_the_webhook(client, guardian, fake_stripe, send_event):
    assert_problem(client.get("/api/v1/wallet/payment-method"), 404, "payment_method_not_found")

    response = client.post("/api/v1/wallet/payment-method/setup")

    assert response.status_code == 201, response.content
    body = response.json()
    [customer] = fake_stripe.calls("/v1/customers")
    [setup] = fake_stripe.calls("/v1/setup_intents")
    assert customer.idempotency_key == f"tuckbox-customer-guardian-{guardian.pk}"
    assert (setup.params["customer"], setup.params["usage"], setup.metadata) == (body["customer_id"], "off_session", {"guardian_id": str(guardian.pk)})
    assert body["client_secret"].startswith(body["setup_intent_id"])
    client.post("/api/v1/wallet/payment-method/setup")
    assert len(fake_stripe.calls("/v1/customers")) == 1  # one Stripe customer per guardian

    intent = {"id": body["setup_intent_id"], "object": "setup_intent", "customer": body["customer_id"], "payment_method": "pm_saved", "metadata": {"guardian_id": str(guardian.pk)}}
    send_event(events.event("setup_intent.succeeded", intent))

    saved = client.get("/api/v1/wallet/payment-method")
    assert saved.status_code == 200
    assert saved.json() == {
        "brand": "mastercard",
        "last4": "4444",
        "saved_at": saved.json()["saved_at"],
        "auto_topup": {"enabled": False, "threshold": None, "amount": None},
    }
    assert PaymentMethod.objects.get().stripe_payment_method_id == "pm_saved"


def test_gateway_transfer_for_future_payouts(fake_stripe):
    transfer = get_gateway().create_transfer(amount=12_345, destination="acct_123", metadata={"payout_id": 9}, idempotency_key="tuckbox-payout-9")

    [call] = fake_stripe.calls("/v1/transfers")
    assert (call.params["amount"], call.params["currency"], call.params["destination"], call.metadata) == ("12345", "aud", "acct_123", {"payout_id": "9"})
    assert call.idempotency_key == "tuckbox-payout-9"
    assert transfer.id.startswith("tr_") and transfer.amount == 12_345
