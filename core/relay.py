"""Hands the outbox's rows to Celery: the only way a job written by a request reaches the broker.

`relay_forever` (`python manage.py relay_outbox`, the Procfile's `relay`) listens on PostgreSQL for
the notification every insert into the outbox sends at commit (core/sql/outbox_notify.pg.sql) and
sends what is new, a batch at a time, so requests never spend their time or their CPU on the broker.
It also looks every `OUTBOX_RELAY_WAKE_SECONDS` without a notification, and beat's `relay_outbox`
(every `OUTBOX_RELAY_INTERVAL_SECONDS`) and every worker at start-up send whatever is left, for when
no relay runs. Rows are taken with `FOR UPDATE SKIP LOCKED`, so several relays never send the same
row at once; a row is marked sent in the transaction that sent it.
"""

import time
from datetime import timedelta

import psycopg
import structlog
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.jobs import publish
from core.locks import lock_objects
from core.models import OutboxJob

log = structlog.get_logger("core.relay")
BATCH = 200
CHANNEL = "core_outbox"  # core/sql/outbox_notify.pg.sql notifies on it


def outbox_relay(*, log_sent: bool = True) -> int:
    """Send every unsent row, oldest first; stop at the first broker failure. Returns how many were sent.

    `log_sent`: say how many were sent. The beat's and a starting worker's relays do, since a row they
    find is one the relay process did not send; the relay process, which sends every job, does not."""
    sent = 0
    while True:
        with transaction.atomic():
            rows = lock_objects(
                OutboxJob.objects.filter(sent_at__isnull=True), key=True, skip_locked=True, limit=BATCH
            )
            delivered, failure = _send_batch(rows)
            sent += len(delivered)
            OutboxJob.objects.filter(pk__in=[row.pk for row in delivered]).update(sent_at=timezone.now())
            if failure is not None:
                row, error = failure
                OutboxJob.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=error[:300])
        if failure is not None:
            log.warning("outbox_relay_stopped", sent=sent, job_id=failure[0].pk, error=failure[1])
            return sent
        if len(rows) < BATCH:
            if sent and log_sent:
                log.info("outbox_relayed", sent=sent)
            return sent


def relay_forever(*, wake_every: float | None = None, should_stop=lambda: False) -> None:
    """Send new outbox rows as their notifications arrive, until `should_stop()`; every `wake_every`
    seconds without one it looks anyway. A database that goes away is waited for, not a crash: the
    process manager's other processes stay up (honcho stops them all when one exits)."""
    wake_every = settings.OUTBOX_RELAY_WAKE_SECONDS if wake_every is None else wake_every
    while not should_stop():
        try:
            listener = _listening()
            while not should_stop():
                outbox_relay(log_sent=False)
                # Notifications that came while the batch was sent wait in psycopg's backlog: none is lost.
                for _ in listener.notifies(timeout=wake_every, stop_after=1):
                    pass
        except (DatabaseError, psycopg.Error, OSError) as exc:  # notifies() raises psycopg's own errors
            log.warning("outbox_relay_reconnecting", error=f"{exc.__class__.__name__}: {exc}"[:300])
            connection.close()
            time.sleep(wake_every)


def _listening():
    """Django's connection (autocommit) listening on the outbox's channel; its psycopg connection."""
    connection.close()  # a fresh connection: LISTEN belongs to the session
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    return connection.connection


def _send_batch(rows: list[OutboxJob]):
    delivered = []
    for row in rows:
        try:
            publish(row.task, row.pk, row.args)
        except Exception as exc:  # the broker is still away: keep the rest for the next run
            return delivered, (row, f"{exc.__class__.__name__}: {exc}")
        delivered.append(row)
    return delivered, None


def outbox_purge() -> int:
    """Sent rows are kept `OUTBOX_KEEP_SENT_DAYS` for diagnosis, then deleted."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_SENT_DAYS)
    deleted, _ = OutboxJob.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


@shared_task(name="core.relay.relay_outbox")
def relay_outbox() -> int:
    return outbox_relay()


@shared_task(name="core.relay.purge_outbox")
def purge_outbox() -> int:
    return outbox_purge()


@worker_ready.connect(dispatch_uid="core.relay.on_worker_ready")
def _relay_on_worker_start(sender=None, **kwargs):
    """A worker coming back after an outage sends what piled up without waiting for beat."""
    relay_outbox.apply_async(retry=False)
