"""The Celery app. Tasks are thin: they take ids, re-check state, and call a service."""

import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init
from django.db import close_old_connections

from core.metrics_dir import multiproc_dir_from_env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before prometheus_client is imported: with PROMETHEUS_MULTIPROC_DIR set (the Procfile sets it for every
# process) a worker's counts join the web's in /metrics. Unset (tests, a shell), metrics stay in-process.
multiproc_dir_from_env()

app = Celery("tuckbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Celery's Django fixup closes the database connection before and after every task, so each job
# paid for a new PostgreSQL connection: a backend forked and authenticated, dearer in CPU than most
# of our jobs (docs/performance.md, the sign-up burst). A worker keeps its connection between tasks
# as a web worker does between requests: Django's close_old_connections() runs around each task and
# closes a connection past CONN_MAX_AGE, or one that failed (its errors, or the health check that
# CONN_HEALTH_CHECKS runs on first use), and keeps the rest. CELERY_DB_REUSE_MAX (settings) holds
# the fixup's own close off. Not for a task run eagerly: it runs inside the caller's transaction.
@task_prerun.connect(dispatch_uid="config.celery.connections_before_task")
@task_postrun.connect(dispatch_uid="config.celery.connections_after_task")
def _database_connections_as_between_requests(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        close_old_connections()


# A worker process starts with the whole application loaded (Django, every app's tasks): freeze it, so
# the collector's full collections walk only what the jobs make, not those objects again and again
# (config/gunicorn.conf.py does the same for the web workers).
@worker_process_init.connect(dispatch_uid="config.celery.freeze_the_loaded_application")
def _freeze_the_loaded_application(**kwargs) -> None:
    gc.freeze()
