"""Payment tasks: thin, by id, safe to run twice (the services check state first)."""

import structlog
from celery import shared_task

from wallet import stripe_events, topups
from wallet.gateway import GatewayUnavailable

log = structlog.get_logger("wallet.tasks")


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 3600)


@shared_task(name="wallet.tasks.process_stripe_event", bind=True, max_retries=8, acks_late=True)
def process_stripe_event(self, event_id: str) -> str | None:
    """Apply a stored webhook event. A failure is recorded on the event and retried with backoff."""
    try:
        return stripe_events.stripe_event_process(event_id=event_id)
    except stripe_events.EventRejected:
        return None  # contradicts our records: recorded on the event for a person, retrying cannot help
    except Exception as exc:
        if self.request.is_eager:  # no worker to retry on: the payments sweeper will
            log.warning("stripe_event_deferred_to_sweeper", event_id=event_id)
            return None
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="wallet.tasks.submit_automatic_topup", bind=True, max_retries=6, acks_late=True)
def submit_automatic_topup(self, topup_id: int) -> None:
    try:
        topups.auto_topup_submit(topup_id=topup_id)
    except GatewayUnavailable as exc:
        if self.request.is_eager:
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="wallet.tasks.sweep_payments")
def sweep_payments() -> dict[str, int]:
    return topups.payments_sweep()
