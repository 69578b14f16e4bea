from celery import shared_task

from guardians import notifications


@shared_task(name="guardians.tasks.deliver_notifications", autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def deliver_notifications(notification_ids: list[int]) -> None:
    notifications.deliver(notification_ids)
