"""The one way to lock rows (Saleor's `lock_objects`, pretix's `locking`): inside a transaction, in
primary-key order so concurrent writers never deadlock, only the rows of the model asked for
(`of=("self",)`, never a joined row), as writers of values, not keys (`no_key=True`), and never
waiting longer than the lock timeout.

A lock not granted in time raises django.db.OperationalError caused by psycopg's LockNotAvailable
(SQLSTATE 55P03); the API answers it 409 `lock_timeout` with Retry-After (api/errors.py). The
PL/pgSQL functions (wallet/sql/, events/sql/) set the same timeout for their own locks, and it is every
connection's default too (config/settings.py), so an inline select_for_update is bounded the same way.
"""

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet


def lock_timeout_setting() -> str:
    """The timeout as PostgreSQL reads it, e.g. '5000ms' ('0' waits for ever: only if configured so)."""
    return f"{int(settings.DATABASE_LOCK_TIMEOUT_SECONDS * 1000)}ms"


def lock_timeout_set(*, seconds: float | None = None) -> None:
    """SET LOCAL lock_timeout for the rest of this transaction (the setting unless `seconds` is given)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_timeout_set must run inside transaction.atomic()")
    value = lock_timeout_setting() if seconds is None else f"{int(seconds * 1000)}ms"
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])


def lock_objects(queryset: QuerySet, *, timeout_seconds: float | None = None) -> list:
    """SELECT ... FOR NO KEY UPDATE OF the queryset's own table, ordered by primary key, as a list.

    NO KEY: the lockers change a row's values (a balance, a hold total), never its key. Such locks
    serialise each other exactly as FOR UPDATE would, but not the foreign-key checks of rows that
    merely point at the locked one (a hold naming a merchant's payable takes FOR KEY SHARE on it), so
    a pre-order never queues behind a sale, a settlement or another pre-order on that payable."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_objects must run inside transaction.atomic()")
    lock_timeout_set(seconds=timeout_seconds)
    return list(queryset.select_for_update(of=("self",), no_key=True).order_by("pk"))
