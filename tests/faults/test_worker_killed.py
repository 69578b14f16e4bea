"""A Celery worker's process killed with SIGKILL in the middle of a task: the task runs again
(acks_late + reject_on_worker_lost) and its effect happens once."""

import os
import signal
import uuid

import psycopg
import pytest
from django.db import connection

from core.models import Notification
from events import services
from events.models import Signup
from events.services.payments import event_fees_account
from tests.events.conftest import family, make_event, sign
from tests.factories import give_wallet_money
from tests.faults.services import wait_for
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import LedgerTransaction

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _paid_signup(client, event, student_id) -> int:
    signup_id = sign(client, event, student_id).json()["id"]
    paid = client.post(f"/api/v1/signups/{signup_id}/pay", format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert paid.status_code == 201, paid.content
    return signup_id


def _refunds() -> int:
    return LedgerTransaction.objects.filter(kind="event_fee_reversal").count()


def _blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] == 1


def test_a_settlement_killed_halfway_reruns_and_refunds_each_family_once(world, broker, client_for, start_worker):
    event = make_event(world.admin)
    second = family(world.school)
    give_wallet_money(world.link.guardian, 2500)
    give_wallet_money(second.guardian, 2500)
    _paid_signup(client_for(world.link.guardian.user), event, world.student.pk)
    later = _paid_signup(client_for(second.guardian.user), event, second.student_id)
    services.event_cancel(event_id=event.pk, staff=world.admin)  # the settlement task waits in Redis

    # Another session holds the second sign-up, so the task refunds the first and then waits.
    dsn = connection.get_connection_params()
    with psycopg.connect(**{key: dsn[key] for key in ("dbname", "user", "password", "host", "port") if dsn.get(key)}) as holder:
        holder.execute("SELECT id FROM events_signup WHERE id = %s FOR UPDATE", [later])
        worker = start_worker()
        wait_for(lambda: _refunds() == 1 and _blocked_on_a_lock(), timeout=20, what="the task to stop halfway")
        os.kill(worker.child_pid(), signal.SIGKILL)
        holder.rollback()

    wait_for(lambda: _refunds() == 2, timeout=20, what="the rerun")
    assert "WorkerLostError" in worker.log_path.read_text()
    wait_for(lambda: Notification.objects.filter(kind="event_cancelled", emailed_at__isnull=False).count() == 2, timeout=10, what="emails")
    assert accounts.guardian_wallet(world.link.guardian).balance == 2500
    assert accounts.guardian_wallet(second.guardian).balance == 2500
    assert event_fees_account(event).balance == 0
    assert Signup.objects.filter(event=event, refunded_amount=2500).count() == 2
    assert Notification.objects.filter(kind="event_cancelled").count() == 2
    assert sorted(worker.emails_sent("Cancelled: ")) == sorted([world.link.guardian.user.email, second.guardian.user.email])
    assert_ledger_consistent()
