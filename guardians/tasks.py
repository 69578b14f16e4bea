from celery import shared_task

from guardians import notifications


@shared_task(name="guardians.tasks.deliver_notifications", autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def deliver_notifications(notification_ids: list[int]) -> None:
    notifications.deliver(notification_ids)


# --- Outbound webhooks ---------------------------------------------------------------
# No Celery retries: the schedule lives on the delivery row (`next_attempt_at`), so retries
# survive worker restarts and the beat task below sends whatever is due.


@shared_task(name="guardians.tasks.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int) -> str | None:
    from guardians.webhooks.delivery import webhook_delivery_attempt

    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@shared_task(name="guardians.tasks.retry_due_webhook_deliveries")
def retry_due_webhook_deliveries() -> int:
    from guardians.webhooks.delivery import deliveries_due
    from guardians.webhooks.publish import delivery_enqueue

    due = deliveries_due()
    for delivery_id in due:
        delivery_enqueue(delivery_id)
    return len(due)


@shared_task(name="guardians.tasks.purge_old_webhook_events")
def purge_old_webhook_events() -> int:
    from guardians.webhooks.delivery import webhook_events_purge

    return webhook_events_purge()


# --- Leavers ---------------------------------------------------------------------------


@shared_task(name="guardians.tasks.leavers_sweep")
def leavers_sweep() -> dict[str, int]:
    """Process the leavers whose leaving day has come, then de-identify those past retention. Safe to
    run twice, even at once: both steps re-check each row under its lock."""
    from guardians.leavers import leavers_process_due
    from guardians.retention import leavers_deidentify_due

    return {"processed": leavers_process_due(), "deidentified": leavers_deidentify_due()}
