"""A pre-order only names the canteen's payable: it never waits on the payable's row lock, so the
pre-orders of one school do not queue behind each other (or behind a settlement) on that one row."""

import psycopg
import pytest
import time_machine
from django.db import connection

from canteen.models import Order
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from wallet import accounts
from wallet.models import Hold, HoldStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _holding_the_row_lock(account_id: int) -> psycopg.Connection:
    """Another session holding the account's row lock, as every writer of a balance takes it
    (core/locks.py; an UPDATE takes the same), until it is closed: a late order, a sale, a settlement."""
    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT id FROM wallet_account WHERE id = %s FOR NO KEY UPDATE", [account_id])
    return other


def test_a_pre_order_is_placed_while_another_transaction_holds_the_payable(client_for, settings):
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 0.5  # were the payable locked, this order would answer 409 lock_timeout
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for)
        payable = accounts.merchant_payable(canteen.settings.merchant)
        other = _holding_the_row_lock(payable.pk)
        try:
            response = canteen.order([(canteen.juice, 1)])
        finally:
            other.close()

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert order.hold.status == HoldStatus.PENDING and order.hold.counterparty_id == payable.pk
    assert Hold.objects.get().amount == 300


def test_a_pre_order_still_waits_for_its_own_wallet(client_for, settings):
    """The lock that matters is kept: two orders spending one wallet are serialised on it."""
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 0.5
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for)
        other = _holding_the_row_lock(accounts.guardian_wallet(canteen.link.guardian).pk)
        try:
            response = canteen.order([(canteen.juice, 1)])
        finally:
            other.close()

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "lock_timeout"
    assert Order.objects.count() == 0
