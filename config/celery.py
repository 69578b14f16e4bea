"""The Celery app. Tasks are thin: they take ids, re-check state, and call a service."""

import os

from celery import Celery

from core.metrics_dir import multiproc_dir_from_env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before prometheus_client is imported: with PROMETHEUS_MULTIPROC_DIR set (the Procfile sets it for every
# process) a worker's counts join the web's in /metrics. Unset (tests, a shell), metrics stay in-process.
multiproc_dir_from_env()

app = Celery("tuckbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
