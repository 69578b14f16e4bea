"""The Stripe webhook: signature, store once, credit once, refunds and disputes in any order."""

import json
import threading
import time
import uuid

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from tests.factories import GuardianFactory
from tests.wallet import fake_stripe as events
from tests.wallet.conftest import WEBHOOK_SECRET, assert_ledger_consistent
from wallet import accounts
from wallet.models import Account, Entry, LedgerTransaction, StripeEvent, TopUp, TopUpRefund
from wallet.stripe_events import GUARDIAN_RECEIVABLE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments")]

PROBLEM = "application/problem+json"


def pending_topup(guardian=None, amount=2000, fee=65) -> TopUp:
    return TopUp.objects.create(
        guardian=guardian or GuardianFactory(), amount=amount, fee=fee, payment_intent_id=f"pi_test_{uuid.uuid4().hex[:16]}"
    )


def balances(guardian) -> dict[str, int]:
    def balance(code):
        account = Account.objects.filter(system_code=code).first()
        return account.balance if account else 0

    return {
        "wallet": accounts.guardian_wallet(guardian).balance,
        "clearing": balance(accounts.PROCESSOR_CLEARING),
        "fees": balance(accounts.PLATFORM_FEES),
        "receivable": balance(GUARDIAN_RECEIVABLE),
    }


def entries_of(reference: str) -> dict[str, int]:
    transaction = LedgerTransaction.objects.get(reference=reference)
    return {entry.account.system_code or entry.account.kind: entry.amount for entry in transaction.entries.select_related("account")}


# --- Crediting ----------------------------------------------------------------------


def test_succeeded_credits_once_with_clearing_wallet_and_fee_entries(send_event):
    topup = pending_topup(amount=2000, fee=65)
    succeeded = events.event("payment_intent.succeeded", events.payment_intent(topup))

    response = send_event(succeeded)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": succeeded["id"], "duplicate": False}
    topup.refresh_from_db()
    assert topup.status == "succeeded" and topup.succeeded_at is not None
    assert topup.charge_id == f"ch_for_{topup.payment_intent_id}"
    assert entries_of(f"topup:{topup.payment_intent_id}") == {"processor_clearing": -2065, "guardian_wallet": 2000, "platform_fees": 65}
    assert topup.credit_transaction.reference == f"topup:{topup.payment_intent_id}"
    assert balances(topup.guardian) == {"wallet": 2000, "clearing": -2065, "fees": 65, "receivable": 0}
    event = StripeEvent.objects.get(pk=succeeded["id"])
    assert event.processed_at is not None and event.error == "" and event.attempts == 1

    again = send_event(succeeded)

    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert LedgerTransaction.objects.count() == 1
    assert balances(topup.guardian)["wallet"] == 2000
    assert_ledger_consistent()


def test_another_event_for_the_same_payment_intent_credits_nothing_more(send_event):
    topup = pending_topup()
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))  # new event id, same PI

    assert StripeEvent.objects.count() == 2
    assert StripeEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert LedgerTransaction.objects.count() == 1
    assert balances(topup.guardian)["wallet"] == 2000
    assert_ledger_consistent()


def test_event_found_by_metadata_when_the_payment_intent_id_was_not_yet_saved(send_event):
    topup = pending_topup()
    intent = events.payment_intent(topup)
    TopUp.objects.filter(pk=topup.pk).update(payment_intent_id=None)  # the event outran Stripe's answer

    send_event(events.event("payment_intent.succeeded", intent))

    topup.refresh_from_db()
    assert topup.payment_intent_id == intent["id"] and topup.status == "succeeded"
    assert_ledger_consistent()


def test_amount_that_does_not_match_the_topup_is_recorded_and_not_credited(send_event):
    topup = pending_topup(amount=2000, fee=65)
    tampered = events.event("payment_intent.succeeded", events.payment_intent(topup, amount=99_999))

    response = send_event(tampered)

    assert response.status_code == 200  # stored; processing refuses it and records why
    event = StripeEvent.objects.get(pk=tampered["id"])
    assert event.processed_at is None and event.error.startswith("EventRejected") and event.attempts == 1
    assert LedgerTransaction.objects.count() == 0
    topup.refresh_from_db()
    assert topup.status == "pending"


def test_unknown_event_types_and_foreign_payments_are_stored_and_ignored(send_event):
    send_event(events.event("customer.created", {"id": "cus_1", "object": "customer"}))
    stranger = {"id": "pi_from_another_app", "object": "payment_intent", "amount": 500, "amount_received": 500, "currency": "aud", "metadata": {}}
    send_event(events.event("payment_intent.succeeded", stranger))

    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 2
    assert LedgerTransaction.objects.count() == 0


# --- Signature --------------------------------------------------------------------


def _refused(response):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "invalid_signature"
    assert StripeEvent.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0
    assert TopUp.objects.get().status == "pending"


def test_tampered_body_is_refused_and_nothing_is_written(send_event):
    topup = pending_topup()
    payload = json.dumps(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    signature = events.stripe_signature(payload, WEBHOOK_SECRET)
    tampered = payload.replace('"amount": 2065', '"amount": 2066')
    assert tampered != payload

    _refused(send_event(tampered, signature=signature))


def test_wrong_secret_is_refused(send_event):
    topup = pending_topup()
    _refused(send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)), secret="whsec_not_ours"))


def test_stale_timestamp_is_refused(send_event):
    topup = pending_topup()
    stale = int(time.time()) - 301
    _refused(send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)), timestamp=stale))


@pytest.mark.parametrize("header", ["", "garbage", "t=notanumber,v1=abc", "t=1700000000", "v1=deadbeef"])
def test_missing_or_malformed_signature_is_refused(send_event, header):
    topup = pending_topup()
    _refused(send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)), signature=header))


def test_signed_body_that_is_not_an_event_is_refused(send_event):
    response = send_event('{"hello": "world"}')

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert StripeEvent.objects.count() == 0


def test_webhook_needs_no_authentication_and_ignores_a_bearer_token(send_event, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    topup = pending_topup()
    assert send_event(events.event("payment_intent.succeeded", events.payment_intent(topup))).status_code == 200


# --- Failures -----------------------------------------------------------------------


DECLINE = {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}


def test_payment_failed_records_the_failure(send_event):
    topup = pending_topup()

    send_event(events.event("payment_intent.payment_failed", events.payment_intent(topup, status="requires_payment_method", error=DECLINE)))

    topup.refresh_from_db()
    assert (topup.status, topup.failure_code, topup.failure_message) == ("failed", "insufficient_funds", "Your card has insufficient funds.")
    assert LedgerTransaction.objects.count() == 0


def test_a_late_failure_does_not_undo_a_success_and_a_retry_after_failure_credits(send_event):
    topup = pending_topup()
    failed = events.event("payment_intent.payment_failed", events.payment_intent(topup, status="requires_payment_method", error=DECLINE))
    succeeded = events.event("payment_intent.succeeded", events.payment_intent(topup))

    send_event(failed)
    send_event(succeeded)  # the guardian tried another card on the same PaymentIntent
    send_event({**failed, "id": f"evt_late_{uuid.uuid4().hex}"})

    topup.refresh_from_db()
    assert (topup.status, topup.failure_code) == ("succeeded", "")
    assert balances(topup.guardian)["wallet"] == 2000
    assert_ledger_consistent()


# --- Refunds made at Stripe -----------------------------------------------------------


def _final_state(topup):
    topup.refresh_from_db()
    return (
        topup.status,
        topup.refunded_amount,
        topup.fee_refunded,
        balances(topup.guardian),
        sorted(TopUpRefund.objects.filter(topup=topup).values_list("amount", "fee_amount", "shortfall", "status")),
    )


def test_refunded_before_succeeded_ends_like_succeeded_then_refunded(send_event):
    natural, reversed_ = pending_topup(), pending_topup()
    for topup, order in ((natural, ("succeeded", "refunded")), (reversed_, ("refunded", "succeeded"))):
        for kind in order:
            if kind == "succeeded":
                send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
            else:
                send_event(events.event("charge.refunded", events.charge(topup, amount_refunded=800)))

    assert _final_state(natural)[:3] == _final_state(reversed_)[:3] == ("succeeded", 800, 0)
    assert _final_state(natural)[3]["wallet"] == _final_state(reversed_)[3]["wallet"] == 1200
    assert _final_state(natural)[4] == _final_state(reversed_)[4] == [(800, 0, 0, "succeeded")]
    # The processor clearing account is shared: two credits of 2065, two refunds of 800.
    assert Account.objects.get(system_code="processor_clearing").balance == -2 * 2065 + 2 * 800
    assert_ledger_consistent()


def test_refund_deltas_come_from_the_cumulative_amount_so_duplicates_book_nothing(send_event):
    topup = pending_topup(amount=2000, fee=65)
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    first = events.event("charge.refunded", events.charge(topup, amount_refunded=500))

    send_event(first)
    send_event(first)  # redelivered
    send_event(events.event("charge.refunded", events.charge(topup, amount_refunded=500)))  # same total, new event
    send_event(events.event("charge.refunded", events.charge(topup, amount_refunded=2065)))  # the rest, fee included
    send_event(events.event("charge.refunded", events.charge(topup, amount_refunded=500)))  # an old one, late

    topup.refresh_from_db()
    assert (topup.status, topup.refunded_amount, topup.fee_refunded, topup.processor_refunded) == ("refunded", 2000, 65, 2065)
    assert list(TopUpRefund.objects.filter(topup=topup).order_by("id").values_list("amount", "fee_amount", "origin")) == [
        (500, 0, "stripe"),
        (1565, 65, "stripe"),
    ]
    assert entries_of(f"topup_refund:{topup.payment_intent_id}:2065") == {
        "processor_clearing": 1565,
        "guardian_wallet": -1500,
        "platform_fees": -65,
    }
    assert balances(topup.guardian) == {"wallet": 0, "clearing": 0, "fees": 0, "receivable": 0}
    assert_ledger_consistent()


def test_a_refund_the_wallet_cannot_cover_books_the_shortfall_as_owed(send_event):
    topup = pending_topup(amount=2000, fee=65)
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    # The guardian spent most of it: only 300 is left in the wallet.
    wallet = accounts.guardian_wallet(topup.guardian)
    from wallet import ledger

    ledger.transfer(
        kind="test_spend",
        reference="test_spend:1",
        legs=[ledger.Leg(wallet.pk, -1700), ledger.Leg(accounts.platform_fees().pk, 1700)],
        actor="test",
    )

    send_event(events.event("charge.refunded", events.charge(topup, amount_refunded=2065)))

    assert entries_of(f"topup_refund:{topup.payment_intent_id}:2065") == {
        "processor_clearing": 2065,
        "guardian_wallet": -300,
        "platform_fees": -65,
        "guardian_receivable": -1700,
    }
    row = TopUpRefund.objects.get(topup=topup)
    assert (row.amount, row.fee_amount, row.shortfall) == (2065, 65, 1700)
    assert balances(topup.guardian) == {"wallet": 0, "clearing": 0, "fees": 1700, "receivable": -1700}
    assert_ledger_consistent()


# --- Disputes -------------------------------------------------------------------------


def test_dispute_withdraws_and_a_won_dispute_reinstates_exactly(send_event):
    topup = pending_topup(amount=2000, fee=65)
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    created = events.event("charge.dispute.created", events.dispute(topup, dispute_id="dp_1", amount=2065, status="needs_response"))

    send_event(created)
    send_event(created)

    row = TopUpRefund.objects.get(stripe_dispute_id="dp_1")
    assert (row.origin, row.status, row.amount, row.fee_amount) == ("dispute", "withdrawn", 2065, 65)
    assert balances(topup.guardian) == {"wallet": 0, "clearing": 0, "fees": 0, "receivable": 0}
    topup.refresh_from_db()
    assert topup.disputed_amount == 2065 and topup.refundable == 0

    send_event(events.event("charge.dispute.closed", events.dispute(topup, dispute_id="dp_1", amount=2065, status="won")))
    send_event(events.event("charge.dispute.funds_reinstated", events.dispute(topup, dispute_id="dp_1", amount=2065, status="won")))

    row.refresh_from_db()
    assert row.status == "reinstated" and row.reversal_transaction.reverses_id == row.transaction_id
    assert balances(topup.guardian) == {"wallet": 2000, "clearing": -2065, "fees": 65, "receivable": 0}
    topup.refresh_from_db()
    assert topup.disputed_amount == 0
    assert_ledger_consistent()


def test_dispute_events_in_reverse_order_end_in_the_same_state(send_event):
    natural, reversed_ = pending_topup(), pending_topup()
    for topup, order in ((natural, ("paid", "created", "won")), (reversed_, ("won", "created", "paid"))):
        dispute_id = f"dp_{topup.pk}"
        for step in order:
            if step == "paid":
                send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
            elif step == "created":
                send_event(events.event("charge.dispute.created", events.dispute(topup, dispute_id=dispute_id, amount=1000, status="needs_response")))
            else:
                send_event(events.event("charge.dispute.closed", events.dispute(topup, dispute_id=dispute_id, amount=1000, status="won")))

    for topup in (natural, reversed_):
        topup.refresh_from_db()
        assert (topup.status, topup.disputed_amount) == ("succeeded", 0)
        assert accounts.guardian_wallet(topup.guardian).balance == 2000
        assert TopUpRefund.objects.get(topup=topup).status == "reinstated"
    assert_ledger_consistent()


def test_lost_dispute_keeps_the_money_withdrawn_and_inquiries_withdraw_nothing(send_event):
    topup = pending_topup()
    send_event(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    send_event(events.event("charge.dispute.created", events.dispute(topup, dispute_id="dp_inq", amount=2065, status="warning_needs_response")))
    assert accounts.guardian_wallet(topup.guardian).balance == 2000

    send_event(events.event("charge.dispute.closed", events.dispute(topup, dispute_id="dp_lost", amount=2065, status="lost")))

    assert TopUpRefund.objects.get(stripe_dispute_id="dp_lost").status == "withdrawn"
    assert balances(topup.guardian) == {"wallet": 0, "clearing": 0, "fees": 0, "receivable": 0}
    assert_ledger_consistent()


# --- Retries --------------------------------------------------------------------------


def test_a_failing_event_records_its_error_and_the_sweeper_processes_it_later(send_event, fake_stripe, time_machine):
    from wallet.models import PaymentMethod
    from wallet.topups import payments_sweep

    guardian = GuardianFactory()
    PaymentMethod.objects.create(guardian=guardian, stripe_customer_id="cus_sweep")
    intent = {"id": "seti_1", "object": "setup_intent", "customer": "cus_sweep", "payment_method": "pm_1", "metadata": {"guardian_id": str(guardian.pk)}}
    fake_stripe.fail_next("/v1/payment_methods/", method="GET")  # Stripe hiccups while we look the card up

    response = send_event(events.event("setup_intent.succeeded", intent, event_id="evt_retry"))

    assert response.status_code == 200
    event = StripeEvent.objects.get(pk="evt_retry")
    assert event.processed_at is None and event.attempts == 1 and "GatewayUnavailable" in event.error

    time_machine.move_to(time.time() + 600)
    assert payments_sweep()["events"] == 1

    event.refresh_from_db()
    assert event.processed_at is not None and event.error == "" and event.attempts == 2
    method = PaymentMethod.objects.get(guardian=guardian)
    assert (method.stripe_payment_method_id, method.brand, method.last4) == ("pm_1", "mastercard", "4444")


# --- Concurrency (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_event_delivered_200_times_20_at_once_credits_once(payments):
    topup = pending_topup(amount=2000, fee=65)
    payload = json.dumps(events.event("payment_intent.succeeded", events.payment_intent(topup)))
    failures, statuses = [], []

    def deliver(barrier):
        client = APIClient()
        try:
            barrier.wait(timeout=30)
            for _ in range(10):
                response = client.post(
                    "/api/v1/webhooks/stripe",
                    data=payload,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=events.stripe_signature(payload, WEBHOOK_SECRET),
                )
                statuses.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    barrier = threading.Barrier(20)
    threads = [threading.Thread(target=deliver, args=(barrier,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert statuses == [200] * 200
    assert StripeEvent.objects.count() == 1 and StripeEvent.objects.get().processed_at is not None
    assert LedgerTransaction.objects.filter(kind="topup").count() == 1
    assert Entry.objects.filter(account__kind="guardian_wallet").aggregate(total=Sum("amount"))["total"] == 2000
    topup.refresh_from_db()
    assert topup.status == "succeeded"
    assert accounts.guardian_wallet(topup.guardian).balance == 2000
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_different_events_for_one_payment_intent_at_once_credit_once(payments):
    topup = pending_topup()
    intent = events.payment_intent(topup)
    payloads = [json.dumps(events.event("payment_intent.succeeded", intent)) for _ in range(10)]
    payloads += [json.dumps(events.event("charge.refunded", events.charge(topup, amount_refunded=0))) for _ in range(5)]
    failures = []

    def deliver(payload, barrier):
        try:
            barrier.wait(timeout=30)
            response = APIClient().post(
                "/api/v1/webhooks/stripe",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=events.stripe_signature(payload, WEBHOOK_SECRET),
            )
            assert response.status_code == 200
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    barrier = threading.Barrier(len(payloads))
    threads = [threading.Thread(target=deliver, args=(payload, barrier)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert StripeEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert LedgerTransaction.objects.filter(kind="topup").count() == 1
    assert accounts.guardian_wallet(topup.guardian).balance == 2000
    assert_ledger_consistent()
