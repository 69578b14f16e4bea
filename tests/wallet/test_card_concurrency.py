"""Concurrency proofs for card charges, on PostgreSQL: balances and caps hold however many terminals race."""

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from tests.concurrency import run_concurrently
from tests.factories import give_card_money
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardCharge, SpendingControls

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50
PRICE = 250


def race_charges(world, count=THREADS):
    raw_key = world.terminal_client.raw_key

    def charge(_):
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        response = client.post(
            "/api/v1/terminal/charges",
            {"card_identifier": world.card_number, "amount": PRICE, "categories": ["canteen"]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        return response.status_code, response.json().get("code")

    return Counter(run_concurrently(charge, count))


def test_fifty_terminals_cannot_overspend_a_card(card_world):
    give_card_money(card_world.student, 10 * PRICE)

    outcomes = race_charges(card_world)

    assert outcomes == Counter({(201, None): 10, (402, "insufficient_funds"): 40})
    assert accounts.student_card_account(card_world.student).balance == 0
    assert CardCharge.objects.count() == 10
    assert accounts.merchant_payable(card_world.terminal_client.terminal.merchant).balance == 10 * PRICE
    assert_ledger_consistent()


def test_concurrent_charges_never_exceed_the_daily_cap(card_world):
    give_card_money(card_world.student, 100 * PRICE)
    SpendingControls.objects.create(student=card_world.student, daily_cap=5 * PRICE)

    outcomes = race_charges(card_world)

    assert outcomes == Counter({(201, None): 5, (402, "daily_cap_exceeded"): 45})
    assert accounts.student_card_account(card_world.student).balance == 95 * PRICE
    assert_ledger_consistent()


def test_concurrent_charges_never_exceed_the_weekly_cap(card_world):
    give_card_money(card_world.student, 100 * PRICE)
    SpendingControls.objects.create(student=card_world.student, weekly_cap=7 * PRICE)

    outcomes = race_charges(card_world)

    assert outcomes == Counter({(201, None): 7, (402, "weekly_cap_exceeded"): 43})
    assert_ledger_consistent()


def test_freeze_racing_charges_leaves_no_charge_after_the_freeze(card_world):
    give_card_money(card_world.student, 100 * PRICE)
    freeze_url = f"/api/v1/students/{card_world.student.pk}/card/freeze"
    token = card_world.guardian_client.tokens["access"]
    raw_key = card_world.terminal_client.raw_key

    def act(i):
        client = APIClient()
        if i == 10:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            return ("freeze", client.post(freeze_url).status_code)
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        response = client.post(
            "/api/v1/terminal/charges",
            {"card_identifier": card_world.card_number, "amount": PRICE},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        return ("charge", response.status_code)

    results = run_concurrently(act, 20)

    assert ("freeze", 200) in results
    card_world.card.refresh_from_db()
    frozen_at = card_world.card.status_changed_at
    assert not CardCharge.objects.filter(created_at__gt=frozen_at).exists()
    assert_ledger_consistent()


def test_one_refund_key_racing_itself_refunds_once(card_world):
    give_card_money(card_world.student, 10 * PRICE)
    raw_key = card_world.terminal_client.raw_key
    charge_id = APIClient(HTTP_X_TERMINAL_KEY=raw_key).post(
        "/api/v1/terminal/charges",
        {"card_identifier": card_world.card_number, "amount": PRICE},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sale",
    ).json()["charge_id"]

    def refund(_):
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        return client.post(f"/api/v1/terminal/charges/{charge_id}/refunds", {}, format="json", HTTP_IDEMPOTENCY_KEY="same-refund").status_code

    statuses = Counter(run_concurrently(refund, 10))

    assert set(statuses) <= {201, 409} and statuses[201] >= 1
    assert accounts.student_card_account(card_world.student).balance == 10 * PRICE
    assert_ledger_consistent()
