"""Every lock has a timeout: a sale that cannot get the card's lock in time is 409 `lock_timeout` with
Retry-After, saves nothing (not even its Idempotency-Key), and the same key succeeds once the lock is free."""

import threading

import pytest
from django.db import connection, transaction

from api.models import IdempotencyRecord
from core.locks import lock_objects
from tests.factories import give_card_money
from wallet import accounts
from wallet.models import Account, CardCharge

pytestmark = pytest.mark.django_db(transaction=True)


def hold_lock(account_id: int, locked: threading.Event, release: threading.Event):
    try:
        with transaction.atomic():
            lock_objects(Account.objects.filter(pk=account_id))
            locked.set()
            release.wait(timeout=30)
    finally:
        connection.close()


def sale(world, key):
    return world.terminal_client.post(
        "/api/v1/terminal/charges", {"card_identifier": world.card_number, "amount": 300}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_sale_waiting_past_the_lock_timeout_is_409_and_leaves_nothing(card_world, settings):
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 0.2
    card_account = give_card_money(card_world.student, 1000)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(card_account.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        response = sale(card_world, "lunch")
    finally:
        release.set()
        holder.join()

    assert response.status_code == 409
    assert response.json()["code"] == "lock_timeout"
    assert response["Retry-After"] == "1"
    assert not IdempotencyRecord.objects.exists() and not CardCharge.objects.exists()

    retried = sale(card_world, "lunch")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert accounts.student_card_account(card_world.student).balance == 700


def test_lock_objects_refuses_to_lock_outside_a_transaction():
    with pytest.raises(RuntimeError):
        lock_objects(Account.objects.all())
