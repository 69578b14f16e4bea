"""The one way to lock rows (Saleor's `lock_objects`, pretix's `locking`). Every row lock of the apps
is taken here: tests/foundation/test_architecture.py fails on a select_for_update anywhere else.

Every lock is taken inside a transaction, on the rows of the model asked for only (`of=("self",)`:
a row a select_related joins is read, never locked), and never waits longer than the lock timeout.
Several rows are locked in primary-key order, so concurrent writers never deadlock.

The mode is FOR NO KEY UPDATE: the lockers change a row's values (a balance, a status), never its
key. Such locks serialise each other exactly as FOR UPDATE would, but not the foreign-key checks of
rows that merely point at the locked one (a hold naming a merchant's payable takes FOR KEY SHARE on
it), so a pre-order never queues behind a sale, a settlement or another pre-order on that payable.
`key=True` takes FOR UPDATE instead, for a transaction that then deletes the row or changes one of
its key columns (a column of a unique index: a one-to-one link such as a payment's transaction, a
unique number): that write takes FOR UPDATE anyway, and holding it from the start means the lock is
never upgraded halfway while others hold FOR KEY SHARE on the row. Claims with `skip_locked` take it
too, so a row anyone has locked in any way is skipped.

The timeout: every connection starts with `lock_timeout` = DATABASE_LOCK_TIMEOUT_SECONDS
(config/settings.py), so a lock here is bounded without a statement of its own. `timeout_seconds`
sets another first, for the rest of the transaction. The ledger (wallet/ledger.py) and the PL/pgSQL
functions (wallet/sql/, events/sql/, canteen/sql/) also set the configured one in their own
transactions. Configured as 0 (behind PgBouncer, docs/operations.md) none of them sets anything:
the role's or the server's `lock_timeout` applies.

A lock not granted in time raises django.db.OperationalError caused by psycopg's LockNotAvailable
(SQLSTATE 55P03); the API answers it 409 `lock_timeout` with Retry-After (api/errors.py).
"""

from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.db.models import Model, QuerySet


def lock_timeout_setting() -> str | None:
    """The configured timeout as PostgreSQL reads it, e.g. '5000ms'; None when it is configured as 0,
    which means "set nothing": the role's or the server's value applies ('0ms' would wait for ever)."""
    milliseconds = int(settings.DATABASE_LOCK_TIMEOUT_SECONDS * 1000)
    return f"{milliseconds}ms" if milliseconds > 0 else None


def lock_timeout_set(*, seconds: float | None = None) -> None:
    """SET LOCAL lock_timeout for the rest of this transaction: `seconds` if given, else the setting
    (and nothing at all when the setting is 0, see lock_timeout_setting)."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_timeout_set must run inside transaction.atomic()")
    value = lock_timeout_setting() if seconds is None else f"{int(seconds * 1000)}ms"
    if value is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])


def _for_update(queryset: QuerySet, *, key: bool, skip_locked: bool, timeout_seconds: float | None, caller: str) -> QuerySet:
    """The queryset as a lock of its own table's rows, in this transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"{caller} must run inside transaction.atomic()")
    if timeout_seconds is not None:
        lock_timeout_set(seconds=timeout_seconds)
    return queryset.select_for_update(of=("self",), no_key=not key, skip_locked=skip_locked)


def lock_objects(
    queryset: QuerySet,
    *,
    key: bool = False,
    skip_locked: bool = False,
    order_by: Sequence[str] = ("pk",),
    limit: int | None = None,
    timeout_seconds: float | None = None,
) -> list:
    """Lock every row the queryset finds, in primary-key order, and return them as a list.

    `limit` locks only the first rows (with `skip_locked`: the first ones nobody holds, a claim).
    `order_by` is for the one caller whose rows are chosen by another order, the first `limit` of
    a waitlist; it should end with "pk" so that the order is total."""
    locking = _for_update(queryset, key=key, skip_locked=skip_locked, timeout_seconds=timeout_seconds, caller="lock_objects")
    ordered = locking.order_by(*order_by)
    return list(ordered if limit is None else ordered[:limit])


def lock_one(queryset: QuerySet, *, key: bool = False, timeout_seconds: float | None = None) -> Model:
    """Lock the one row the queryset finds and return it: raises the model's DoesNotExist (or
    MultipleObjectsReturned), as QuerySet.get() does."""
    return _for_update(queryset, key=key, skip_locked=False, timeout_seconds=timeout_seconds, caller="lock_one").get()


def lock_one_or_none(
    queryset: QuerySet, *, key: bool = False, skip_locked: bool = False, timeout_seconds: float | None = None
) -> Model | None:
    """Lock the row the queryset finds and return it, or None if there is none (or, with
    `skip_locked`, if another transaction holds it). As QuerySet.first(): if it finds several, only
    the first, by primary key unless the queryset is ordered, is locked."""
    locking = _for_update(queryset, key=key, skip_locked=skip_locked, timeout_seconds=timeout_seconds, caller="lock_one_or_none")
    return locking.first()
