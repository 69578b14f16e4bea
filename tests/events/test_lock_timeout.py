"""Every row lock is bounded: the connection's default `lock_timeout` (config/settings.py) covers every
lock the helpers of core/locks.py take without a timeout of their own, not only the ledger's and the
database functions', which set it per transaction."""

import threading

import pytest
from django.db import connection, connections, transaction

from events.models import Event
from tests.events.conftest import make_event
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_connection_starts_with_the_lock_and_statement_timeouts(settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        lock_timeout, statement_timeout = cursor.fetchone()
    assert lock_timeout == f"{int(settings.DATABASE_LOCK_TIMEOUT_SECONDS)}s"
    assert statement_timeout == f"{int(settings.DATABASE_STATEMENT_TIMEOUT_SECONDS)}s"


def hold_event(event_id: int, locked: threading.Event, release: threading.Event):
    try:
        with transaction.atomic():
            list(Event.objects.select_for_update().filter(pk=event_id))
            locked.set()
            release.wait(timeout=30)
    finally:
        connections.close_all()


def test_an_inline_lock_waited_for_past_the_timeout_is_409_and_changes_nothing(world, client_for):
    """An event edit (core.locks.lock_one, bounded by the connection's default alone) while another session holds the event."""
    event = make_event(world.admin)
    with connection.cursor() as cursor:  # this session's default, as the connection option sets it, but short
        cursor.execute("SET lock_timeout = '200ms'")
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_event, args=(event.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        response = client_for(world.admin.user).patch(f"/api/v1/events/{event.pk}", {"capacity": 40}, format="json")
    finally:
        release.set()
        holder.join()

    assert_problem(response, 409, "lock_timeout")
    assert response["Retry-After"] == "1"
    assert Event.objects.get(pk=event.pk).capacity == event.capacity
