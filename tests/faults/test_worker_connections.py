"""A Celery worker keeps its PostgreSQL connection from one task to the next, as a web worker does
between requests (config/celery.py), instead of Celery's Django fixup opening a new one for each."""

import pytest
from django.db import connection

from core import notifications
from core.models import Notification
from tests.factories import GuardianFactory
from tests.faults.services import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _database_now():
    """The database's clock (pg_stat_activity's times are its own), outside any transaction of ours."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _idle_backends_since(instant) -> dict[int, object]:
    """Backends of this database other than ours, idle, whose last statement ended after `instant`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle' AND state_change > %s",
            [instant],
        )
        return dict(cursor.fetchall())


def _notice_delivered(title: str) -> None:
    notice = Notification.objects.get(title=title)
    wait_for(lambda: Notification.objects.filter(pk=notice.pk, pushed_at__isnull=False).exists(), timeout=20, what=f"{title} pushed")


def test_the_worker_runs_its_second_job_on_the_connection_of_its_first(broker, start_worker):
    users = [GuardianFactory().user, GuardianFactory().user]
    start_worker()

    first_started = _database_now()
    notifications.notify(users=[users[0]], kind="low_balance", title="First", body="Ava's card is below $5.")
    _notice_delivered("First")
    after_first = _idle_backends_since(first_started)
    assert after_first, "the worker closed its connection after the job"

    second_started = _database_now()
    notifications.notify(users=[users[1]], kind="low_balance", title="Second", body="Leo's card is below $5.")
    _notice_delivered("Second")
    after_second = _idle_backends_since(second_started)

    # The backend that ran the second job is one that was already there for the first, started once.
    assert set(after_second) & set(after_first), (after_first, after_second)
    assert all(after_second[pid] == after_first[pid] for pid in set(after_second) & set(after_first))
