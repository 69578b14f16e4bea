from celery import shared_task

from core import notifications
from core.webhooks.delivery import deliveries_due, webhook_delivery_attempt, webhook_events_purge
from core.webhooks.publish import delivery_enqueue


# OSError covers the mail server's refusals (smtplib's errors) and the network's; acks_late redelivers
# the task if the worker dies while sending (deliver is safe to run twice).
@shared_task(name="core.tasks.deliver_notifications", autoretry_for=(OSError,), retry_backoff=True, max_retries=5, acks_late=True)
def deliver_notifications(notification_ids: list[int]) -> None:
    notifications.deliver(notification_ids)


# --- Outbound webhooks ---------------------------------------------------------------
# No Celery retries: the schedule lives on the delivery row (`next_attempt_at`), so retries
# survive worker restarts and the beat task below sends whatever is due.


@shared_task(name="core.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int) -> str | None:
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@shared_task(name="core.tasks.retry_due_webhook_deliveries")
def retry_due_webhook_deliveries() -> int:
    due = deliveries_due()
    for delivery_id in due:
        delivery_enqueue(delivery_id)
    return len(due)


@shared_task(name="core.tasks.purge_old_webhook_events")
def purge_old_webhook_events() -> int:
    return webhook_events_purge()


# --- Leavers ---------------------------------------------------------------------------
