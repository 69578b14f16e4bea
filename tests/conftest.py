import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from config.celery import app as celery_app
from tests.factories import TEST_PASSWORD  # noqa: F401 - re-exported for tests
from wallet.terminal_keys import terminal_create

# `make test` draws the same examples on every run, so a red CI run is a regression, never the luck of
# a fresh seed (main stays green and a failure reproduces anywhere). HYPOTHESIS_PROFILE=fuzz (`make fuzz`)
# draws fresh random examples and runs the state machines (tests/state_machines.py) far longer: that is
# where new counterexamples are found, then pinned here as tests.
hypothesis_settings.register_profile("suite", derandomize=True)
hypothesis_settings.register_profile("fuzz", max_examples=1_000, stateful_step_count=60)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session", autouse=True)
def _redis_database_per_worker():
    """xdist workers share one Redis, and `cache.clear()` below is FLUSHDB: without a database
    of its own, one worker would wipe the other's throttle counters in the middle of a test. The
    counters of core/counters.py follow REDIS_URL, so it moves with the cache."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not django_settings.REDIS_URL or not worker.startswith("gw"):
        yield
        return
    database = int(worker[2:]) % 15 + 1  # Redis has databases 0-15; 0 is left to the default URL
    location = urlsplit(django_settings.REDIS_URL)._replace(path=f"/{database}").geturl()
    with override_settings(CACHES={"default": {**django_settings.CACHES["default"], "LOCATION": location}}, REDIS_URL=location):
        yield


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()  # throttles count in the cache


@pytest.fixture(scope="session")
def _fake_stripe_server():
    from tests.wallet.fake_stripe import FakeStripe

    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server, settings):
    """The Stripe gateway, pointed at a local fake Stripe server (reset for each test): Stripe is
    faked at its HTTP boundary only, the real library talks to it."""
    _fake_stripe_server.reset()
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_tuckbox_fake"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_tuckbox_fake"
    settings.STRIPE_API_BASE = _fake_stripe_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5
    return _fake_stripe_server


@pytest.fixture
def fake_gateway(settings):
    """The local fake payment gateway that `make run` uses."""
    settings.PAYMENT_GATEWAY = "fake"


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """An APIClient signed in as `user` through a real session and access token."""

    def make(user):
        client = APIClient()
        tokens = tokens_for_new_session(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        client.tokens = tokens
        return client

    return make


@pytest.fixture
def terminal_client():
    """An APIClient authenticated as a new terminal of `merchant`."""

    def make(merchant, label="Counter"):
        terminal, raw_key = terminal_create(merchant=merchant, label=label)
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        client.terminal = terminal
        client.raw_key = raw_key
        return client

    return make


@pytest.fixture
def eager_tasks():
    """Tasks run in-process when enqueued: a live server's after-commit work (Stripe and fake-gateway
    event processing, webhook deliveries) is done before the test reads its outcome."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def refusing_mail_server(settings):
    """Email through a server that refuses the first message and then recovers (tests/mail_servers.py)."""
    from tests.mail_servers import RefusingOnce

    RefusingOnce.refused = 0
    settings.EMAIL_BACKEND = "tests.mail_servers.RefusingOnce"
    return RefusingOnce


@pytest.fixture
def back_to_the_latest_schema():
    """For a test that migrates the database back: later tests need every migration since (the
    database functions among them), as the suite began."""
    from tests.migrations import migrate_to_latest

    yield
    migrate_to_latest()
