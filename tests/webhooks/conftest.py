"""A local receiver for deliveries, the documented verification recipe, and eager Celery."""

import pytest

from config.celery import app as celery_app
from core.models_webhooks import WebhookEvent, WebhookSubscription
from guardians.webhook_subscriptions import webhook_subscription_create
from tests.factories import StaffFactory
from tests.webhooks.receiver import Receiver, load_verify_recipe


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture(autouse=True)
def _local_targets(settings):
    """Deliveries go to the receiver on loopback: allowed in tests, as on the embedded default."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 2.0


@pytest.fixture(autouse=True)
def eager_celery():
    """REDIS_URL is set in the PostgreSQL lane, so tasks would go to a broker nobody reads: run them here."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def verify_recipe():
    return load_verify_recipe()


def subscribe(url: str, event_types: list[str], *, school=None, staff=None, **fields) -> WebhookSubscription:
    staff = staff or StaffFactory(**({"school": school} if school else {}), roles=["admin"])
    return webhook_subscription_create(url=url, event_types=event_types, school=staff.school, created_by=staff.user, **fields)


def events_of(event_type: str) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(type=event_type).order_by("created_at"))
