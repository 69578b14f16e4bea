"""A pending hold past its time reserves nothing: a card funding (wallet_card_transfer, on the guardian's
wallet) and a card sale (wallet_card_charge, on the card account) void it under the account's lock
(wallet_accounts_lock, wallet/sql/accounts.pg.sql) and may spend what it held; a hold still in its
time keeps its money reserved."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction

from core import clock
from tests.factories import give_card_money, give_wallet_money
from wallet import accounts, ledger
from wallet.models import Account, Hold, HoldStatus

pytestmark = pytest.mark.django_db


def hold_on(account: Account, amount: int, *, expires_in: timedelta) -> Hold:
    with transaction.atomic():
        locked = ledger.lock_accounts([account.pk])
        return ledger.hold_place_locked(
            accounts=locked, account_id=account.pk, counterparty_id=accounts.processor_clearing().pk, amount=amount,
            kind="test_hold", reference=uuid.uuid4().hex, expires_at=clock.now() + expires_in,
        )


# Each: (the account holding 1000, a request spending all 1000 of it).
def funding(world):
    account = give_wallet_money(world.link.guardian, 1000)
    return account, lambda: world.guardian_client.post(
        f"/api/v1/students/{world.student.pk}/card/fund", {"amount": 1000}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )


def sale(world):
    account = give_card_money(world.student, 1000)
    return account, lambda: world.terminal_client.post(
        "/api/v1/terminal/charges", {"card_identifier": world.card_number, "amount": 1000}, format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


SPENDING = pytest.mark.parametrize("spending", [funding, sale], ids=["funding", "sale"])


@SPENDING
def test_an_expired_hold_is_voided_under_the_lock_and_what_it_held_is_spent(card_world, spending):
    account, spend = spending(card_world)
    hold = hold_on(account, 800, expires_in=-timedelta(minutes=1))

    response = spend()

    assert response.status_code == 201, response.json()
    hold.refresh_from_db()
    account.refresh_from_db()
    assert hold.status == HoldStatus.VOIDED and hold.resolved_at is not None
    assert (account.balance, account.held) == (0, 0)


@SPENDING
def test_a_hold_in_its_time_still_reserves_its_money(card_world, spending):
    account, spend = spending(card_world)
    hold = hold_on(account, 800, expires_in=timedelta(hours=1))

    response = spend()

    assert response.status_code == 402 and response.json()["code"] == "insufficient_funds", response.json()
    hold.refresh_from_db()
    account.refresh_from_db()
    assert hold.status == HoldStatus.PENDING
    assert (account.balance, account.held) == (1000, 800)
