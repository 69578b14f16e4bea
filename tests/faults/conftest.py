"""Fault injection: real processes (redis-server, a Celery worker) that the tests stop, hang or kill."""

import pytest

from config.celery import app as celery_app
from tests.events.conftest import world  # noqa: F401 - a school with staff and a family
from tests.faults.services import CeleryWorker, RedisServer
from tests.wallet.conftest import card_world  # noqa: F401 - the faults that hit a card charge use it


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server, settings):
    """This process's Celery publishes to `redis_server` (the Procfile's web process, in miniature)."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    _use_broker(redis_server.url, eager=False)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield redis_server
    _use_broker(saved[0], eager=saved[1])


def _use_broker(url: str, *, eager: bool) -> None:
    # The connection and producer pools remember the URL they were made for: drop both. close() also
    # forgets the app, so a tasks module imported later would not register: import them all first.
    celery_app.loader.import_default_modules()
    celery_app.close()
    del celery_app.amqp
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, eager


@pytest.fixture
def start_worker(redis_server, tmp_path):
    started = []

    def start() -> CeleryWorker:
        worker = CeleryWorker(redis_url=redis_server.url, log_path=tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
