"""The one way to run a Celery task after a write commits: `enqueue_after_commit("app.tasks.name", *args)`.

The job is a row (`OutboxJob`) written in the caller's transaction, so it exists exactly when the
write does. The request never talks to the broker: a trigger on the table notifies at commit
(core/sql/outbox_notify.pg.sql), and the relay (`manage.py relay_outbox`, core/relay.py) hands the
new rows to Celery in batches. If the broker is down or hung nothing in the request waits for it;
the rows stay unsent until it is back. Delivery is therefore at least once: every task enqueued here
must be safe to run twice (check state first).

Under Celery's eager mode (tests, a shell: `task_always_eager`) there is no broker and no relay, so
the job runs in this process after the commit instead.

Tasks are named, not imported: a service enqueues its app's task without importing its `tasks`
module (which imports the service), so there is no import cycle and no import inside a function.
"""

from functools import partial
from importlib import import_module

import structlog
from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from core.models import OutboxJob

log = structlog.get_logger("core.jobs")


def enqueue_after_commit(task_name: str, *args) -> None:
    """Run the task named `task_name` with `args` after the current transaction commits (now, outside one).

    Args must be JSON. The name is the task's registered `name=` (e.g. "core.tasks.deliver_webhook").
    """
    if not isinstance(task_name, str):
        raise TypeError(f"enqueue a task by its registered name, not {task_name!r}")
    task_by_name(task_name)  # an unknown name fails here, in the caller's test, not later in a worker
    job = OutboxJob.objects.create(task=task_name, args=list(args))
    _run_here_when_eager(task_name, job.pk, job.args)


def send_after_commit(task_name: str, job_id: int, args: list) -> None:
    """A job whose outbox row the caller's SQL wrote (a database function, as a sign-up's): the relay
    sends it after the commit, as it does `enqueue_after_commit`'s."""
    task_by_name(task_name)
    _run_here_when_eager(task_name, job_id, list(args))


def _run_here_when_eager(task_name: str, job_id: int, args: list) -> None:
    if current_app.conf.task_always_eager:
        transaction.on_commit(partial(_send_now, task_name, job_id, args))


def _send_now(task_name: str, job_id: int, args: list) -> None:
    """Run the job here (eager mode) and mark its row sent."""
    try:
        publish(task_name, job_id, args)
    except Exception as exc:  # the task failed: its row is kept unsent, as a broker's failure keeps it
        log.warning("outbox_send_deferred", job_id=job_id, task=task_name, error=f"{exc.__class__.__name__}: {exc}"[:300])
        return
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SENT, [timezone.now(), job_id])


# As SQL, since a QuerySet.update() is compiled afresh each time (core/sql.py says why).
_MARK_SENT = f"UPDATE {OutboxJob._meta.db_table} SET sent_at = %s WHERE id = %s AND sent_at IS NULL"


def publish(task_name: str, job_id: int, args: list) -> None:
    """Hand one job to the broker without Celery's publish retries: the outbox is the retry."""
    task_by_name(task_name).apply_async(args=args, task_id=f"outbox-{job_id}", retry=False)


def task_by_name(name: str):
    """The registered Celery task called `name` (its options, such as acks_late, come with it)."""
    app = current_app
    if name not in app.tasks:
        # Outside a worker a tasks module loads on demand, and our task names say which one
        # ("wallet.tasks.sweep_payments"). Not Celery's import_default_modules: through the Django
        # fixup it runs django.setup() again, which reconfigures logging in the middle of a request.
        import_module(name.rpartition(".")[0])
    return app.tasks[name]
