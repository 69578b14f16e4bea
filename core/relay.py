"""Sends the outbox rows the after-commit attempt could not (broker down, process killed).

Runs from beat every `OUTBOX_RELAY_INTERVAL_SECONDS` and once when a worker starts. Rows are taken
with `FOR UPDATE SKIP LOCKED`, so several relays never send the same row at once, and only rows
older than `OUTBOX_RELAY_GRACE_SECONDS`, so a relay does not race the request still sending its own.
"""

from datetime import timedelta

import structlog
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import publish
from core.locks import lock_objects
from core.models import OutboxJob

log = structlog.get_logger("core.relay")
BATCH = 200


def outbox_relay(*, grace: timedelta | None = None) -> int:
    """Send every unsent row past the grace period; stop at the first broker failure. Returns how many were sent."""
    grace = timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS) if grace is None else grace
    sent = 0
    while True:
        with transaction.atomic():
            rows = lock_objects(
                OutboxJob.objects.filter(sent_at__isnull=True, created_at__lte=timezone.now() - grace), key=True, skip_locked=True, limit=BATCH
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
            if sent:
                log.info("outbox_relayed", sent=sent)
            return sent


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
