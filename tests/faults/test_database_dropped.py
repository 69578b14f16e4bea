"""The database connection dropped in the middle of a money request: the terminal gets a
problem+json 503 it can retry, and not one money row is half-written."""

import threading
import time
import uuid

import pytest
from django.db import connection, connections
from django.db.utils import DEFAULT_DB_ALIAS, load_backend

from tests.factories import give_card_money
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardCharge, Entry, LedgerTransaction

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def a_second_connection():
    """A connection of its own, outside Django's per-thread handling: it holds the lock and kills."""
    alias = connections.settings[DEFAULT_DB_ALIAS]
    wrapper = load_backend(alias["ENGINE"]).DatabaseWrapper(alias, DEFAULT_DB_ALIAS)
    wrapper.ensure_connection()
    return wrapper


def test_a_charge_whose_connection_is_killed_answers_503_and_writes_nothing(card_world):
    give_card_money(card_world.student, 2000)
    card_account = accounts.student_card_account(card_world.student)
    before = (LedgerTransaction.objects.count(), Entry.objects.count(), CardCharge.objects.count())
    answers = []

    def charge():
        try:
            answers.append(card_world.terminal_client.post(
                "/api/v1/terminal/charges", {"card_identifier": card_world.card_number, "amount": 400},
                format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            ))
        finally:
            connection.close()

    holder = a_second_connection()
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM wallet_account WHERE id = %s FOR UPDATE", [card_account.pk])
            request = threading.Thread(target=charge)
            request.start()
            waiting = None
            for _ in range(200):  # the charge reaches the account's lock and waits on it
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is a per-transaction snapshot
                # Only the charge this connection blocks: another xdist worker's backends wait on locks too.
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                )
                waiting = cursor.fetchone()
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting, f"the charge never waited on the lock: {[(a.status_code, a.content) for a in answers]}"
            cursor.execute("SELECT pg_terminate_backend(%s)", [waiting[0]])
            request.join(30)
            cursor.execute("ROLLBACK")
    finally:
        holder.close()

    [answer] = answers
    assert answer.status_code == 503 and answer["Content-Type"] == "application/problem+json", answer.content
    assert answer.json()["code"] == "database_unavailable"
    assert answer["Retry-After"]
    assert (LedgerTransaction.objects.count(), Entry.objects.count(), CardCharge.objects.count()) == before
    assert_ledger_consistent()
