"""The relay (`manage.py relay_outbox`, core/relay.py) hands a job to the broker when the write that made it
commits, woken by PostgreSQL's notification rather than by its timer; a rolled-back write sends nothing; a
relay whose connection is killed reconnects instead of exiting (which would stop `make run`'s whole stack)."""

import threading
import time

import pytest
from django.db import connection, transaction

from core.jobs import enqueue_after_commit
from core.models import OutboxJob
from core.relay import relay_forever
from tests.faults.services import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

TIMER = 30.0  # the relay's wake-up without a notification: far longer than the test waits


def _running_relay(broker, *, wake_every: float):
    stop = threading.Event()

    def run():
        try:
            relay_forever(wake_every=wake_every, should_stop=stop.is_set)
        finally:
            connection.close()  # the thread's own connection, so the test database can be dropped

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # Its first job proves it listens: from then on only a notification (or its timer) wakes it.
    enqueue_after_commit("core.tasks.deliver_notifications", [0])
    wait_for(lambda: OutboxJob.objects.filter(sent_at__isnull=False).exists(), timeout=10, what="the relay's first job")
    yield broker
    stop.set()
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY core_outbox")  # wake it, so it sees the stop
    thread.join(10 + wake_every)
    assert not thread.is_alive()


@pytest.fixture
def relay(broker):
    yield from _running_relay(broker, wake_every=TIMER)


@pytest.fixture
def quick_relay(broker):
    yield from _running_relay(broker, wake_every=0.5)


def test_a_committed_job_reaches_the_broker_at_once_and_is_marked_sent(relay):
    with transaction.atomic():
        job = OutboxJob.objects.create(task="core.tasks.deliver_notifications", args=[[1, 2]])
        time.sleep(0.3)
        assert relay.queued() == 1  # the first job's message only: nothing before the commit
    committed = time.monotonic()

    wait_for(lambda: relay.queued() == 2, timeout=5, what="the job in Redis")
    took = time.monotonic() - committed
    assert took < 5 < TIMER, took  # woken by the notification, not by its timer
    wait_for(lambda: OutboxJob.objects.get(pk=job.pk).sent_at is not None, timeout=5, what="the row marked sent")
    time.sleep(0.3)
    assert relay.queued() == 2  # once


def test_a_rolled_back_write_sends_nothing(relay):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_after_commit("core.tasks.deliver_notifications", [1])
        raise RuntimeError("the write failed")

    with transaction.atomic():
        enqueue_after_commit("core.tasks.deliver_notifications", [2])
    wait_for(lambda: relay.queued() == 2, timeout=5, what="the committed job")
    time.sleep(0.3)
    assert relay.queued() == 2  # the fixture's first job and the committed one: none for the rolled-back write
    assert list(OutboxJob.objects.order_by("pk").values_list("args", flat=True)) == [[[0]], [[2]]]
    assert not OutboxJob.objects.filter(sent_at__isnull=True).exists()


def test_a_relay_whose_connection_is_killed_reconnects_and_sends_what_came_meanwhile(quick_relay):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        assert [killed for (killed,) in cursor.fetchall()] == [True]  # the relay's one connection

    enqueue_after_commit("core.tasks.deliver_notifications", [3])  # while it reconnects

    wait_for(lambda: quick_relay.queued() == 2, timeout=10, what="the job sent after the reconnect")
    assert not OutboxJob.objects.filter(sent_at__isnull=True).exists()
