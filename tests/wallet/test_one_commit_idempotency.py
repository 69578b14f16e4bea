"""The Idempotency-Key contract where the claim, the money and the stored answer are one commit
(api/idempotency.py, atomic mode): card charges and card funding."""

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from tests.concurrency import run_concurrently
from tests.factories import give_card_money, give_wallet_money
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardCharge, LedgerTransaction

pytestmark = pytest.mark.django_db(transaction=True)


def charge(client, world, key, amount=250):
    return client.post(
        "/api/v1/terminal/charges",
        {"card_identifier": world.card_number, "amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_twenty_terminal_retries_of_one_sale_at_once_charge_once(card_world):
    give_card_money(card_world.student, 10_000)
    raw_key = card_world.terminal_client.raw_key

    def retry(_):
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        response = charge(client, card_world, "one-sale")
        return response.status_code, response.json().get("code"), response.content if response.status_code == 201 else None

    outcomes = run_concurrently(retry, 20)

    assert Counter((status, code) for status, code, _ in outcomes).keys() <= {(201, None), (409, "idempotency_request_in_progress")}
    assert len({body for status, _, body in outcomes if status == 201}) == 1  # the one answer, replayed byte for byte
    assert CardCharge.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="one-sale").status_code == 201
    assert accounts.student_card_account(card_world.student).balance == 10_000 - 250
    assert_ledger_consistent()


def test_the_same_key_with_another_amount_is_422_and_charges_nothing_more(card_world):
    give_card_money(card_world.student, 1000)
    first = charge(card_world.terminal_client, card_world, "k")

    other = charge(card_world.terminal_client, card_world, "k", amount=300)

    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert CardCharge.objects.count() == 1


def test_a_declined_sale_is_stored_and_replayed_not_retried(card_world):
    declined = charge(card_world.terminal_client, card_world, "broke")
    give_card_money(card_world.student, 1000)

    replayed = charge(card_world.terminal_client, card_world, "broke")

    assert declined.status_code == 402 and declined.json()["code"] == "insufficient_funds"
    assert replayed.content == declined.content and replayed["Idempotent-Replayed"] == "true"
    assert not CardCharge.objects.exists()


def test_a_crash_leaves_neither_money_moved_nor_the_key_taken(card_world, monkeypatch):
    give_wallet_money(card_world.link.guardian, 1000)
    url = f"/api/v1/students/{card_world.student.pk}/card/fund"

    def crash(**_kwargs):
        raise RuntimeError("worker fell over")

    with monkeypatch.context() as patch:
        patch.setattr("api.views.cards.card_transfer", crash)
        crashed = card_world.guardian_client.post(url, {"amount": 400}, format="json", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert crashed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="fund-1").exists()

    retried = card_world.guardian_client.post(url, {"amount": 400}, format="json", HTTP_IDEMPOTENCY_KEY="fund-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert retried.json()["card_balance"] == 400 and retried.json()["wallet_balance"] == 600
    assert LedgerTransaction.objects.filter(kind="card_fund").count() == 1


def test_a_charge_key_is_the_ledger_anchor_too(card_world):
    give_card_money(card_world.student, 1000)
    key = uuid.uuid4().hex

    response = charge(card_world.terminal_client, card_world, key)

    posted = LedgerTransaction.objects.get(kind="card_charge")
    assert posted.reference == f"card_charge:terminal:{card_world.terminal_client.terminal.pk}:{key}"
    assert response.json()["charge_id"] == CardCharge.objects.get(transaction=posted).pk
