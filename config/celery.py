"""The Celery app. Tasks are thin: they take ids, re-check state, and call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tuckbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
