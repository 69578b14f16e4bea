from celery import shared_task

from api.idempotency import idempotency_records_purge


@shared_task(name="api.tasks.purge_expired_idempotency_keys")
def purge_expired_idempotency_keys() -> int:
    return idempotency_records_purge()
