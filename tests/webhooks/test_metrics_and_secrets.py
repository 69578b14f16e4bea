"""Delivery failures show in /metrics; secrets stored before Standard Webhooks keep verifying after the migration."""

import importlib

import pytest
import time_machine
from django.apps import apps
from django.test import TestCase

from core.models_webhooks import WebhookDelivery, WebhookSubscription
from core.tasks import retry_due_webhook_deliveries
from core.webhooks import signing, webhook_event_publish
from core.webhooks.delivery import MAX_ATTEMPTS
from guardians.models import School
from tests.metrics_scrape import moved, scrape
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

NOW = "2026-11-30T01:00:00Z"
LEGACY = "whsec_3q2-7w9Kx1YbQ0Zt5VnM8pLr4sD6fHjA2cE0gI9kO1u"  # the old shape: URL-safe text, used whole as the key
secrets_migration = importlib.import_module("core.migrations.0003_webhook_secrets_standard")


def _retry_all_due():
    with TestCase.captureOnCommitCallbacks(execute=True):
        return retry_due_webhook_deliveries()


def test_failed_attempts_and_given_up_deliveries_are_counted(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged", "canteen.order_placed"])
    receiver.answer(*[503] * MAX_ATTEMPTS, 410)
    before = scrape()
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
        delivery = WebhookDelivery.objects.get()
        while delivery.status == WebhookDelivery.Status.PENDING:
            traveller.move_to(delivery.next_attempt_at)
            _retry_all_due()
            delivery.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):  # the endpoint now says it is gone for good
            webhook_event_publish(event_type="canteen.order_placed", school_id=subscription.school_id, data={"order_id": 1})
    after = scrape()

    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert moved(before, after, "tuckbox_webhook_attempts_total", result="http_5xx") == MAX_ATTEMPTS
    assert moved(before, after, "tuckbox_webhook_attempts_total", result="gone") == 1
    assert moved(before, after, "tuckbox_webhook_attempts_total", result="delivered") == 0
    assert moved(before, after, "tuckbox_webhook_deliveries_failed_total", event_type="card.charged") == 1
    assert moved(before, after, "tuckbox_webhook_deliveries_failed_total", event_type="canteen.order_placed") == 1


def test_a_refused_target_and_a_success_are_counted_apart(receiver, settings, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False  # the receiver on loopback is now off limits (SSRF guard)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 2})
    after = scrape()
    assert len(receiver.received) == 1
    assert moved(before, after, "tuckbox_webhook_attempts_total", result="delivered") == 1
    assert moved(before, after, "tuckbox_webhook_attempts_total", result="target_refused") == 1


def test_the_migration_converts_old_secrets_keeping_their_key(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    current = subscription.secret  # already standard: left alone
    legacy = subscribe(receiver.url, ["card.charged"], school=School.objects.get(pk=subscription.school_id))
    WebhookSubscription.objects.filter(pk=legacy.pk).update(secret=LEGACY, previous_secret=LEGACY.replace("3q2", "9zz"))

    secrets_migration.forwards(apps, None)

    legacy.refresh_from_db()
    subscription.refresh_from_db()
    assert subscription.secret == current
    assert legacy.secret == signing.secret_from_legacy(LEGACY) and signing.secret_is_standard(legacy.secret)
    assert signing.secret_is_standard(legacy.previous_secret)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
        by_subscription = {int(r.headers["Tuckbox-Delivery-Id"]): r for r in receiver.received}
        [to_legacy] = [r for pk, r in by_subscription.items() if WebhookDelivery.objects.get(pk=pk).subscription_id == legacy.pk]
        # The integrator's stored secret, converted by the formula docs/api.md gives, verifies with the library.
        assert to_legacy.verifies_with(signing.secret_from_legacy(LEGACY))

    secrets_migration.backwards(apps, None)
    legacy.refresh_from_db()
    subscription.refresh_from_db()
    assert (legacy.secret, legacy.previous_secret, subscription.secret) == (LEGACY, LEGACY.replace("3q2", "9zz"), current)


def test_rotation_with_no_grace_signs_with_the_new_secret_alone(receiver, django_capture_on_commit_callbacks):
    from guardians.webhook_subscriptions import webhook_subscription_rotate_secret

    subscription = subscribe(receiver.url, ["card.charged"])
    old = subscription.secret
    with time_machine.travel(NOW, tick=False):
        subscription = webhook_subscription_rotate_secret(subscription=subscription, grace_hours=0)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
        [delivery] = receiver.received
        assert signing.secret_is_standard(subscription.secret) and subscription.secret != old
        assert len(delivery.signatures) == 1
        assert delivery.verifies_with(subscription.secret) and not delivery.verifies_with(old)
