"""Deliveries: signed as documented, deduplicable, retried with backoff, stopped by 410, once per movement."""

import json
import re
import socket
import uuid
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import TestCase

from core import clock
from core.models_webhooks import WebhookDelivery, WebhookEvent, WebhookSubscription
from core.tasks import retry_due_webhook_deliveries
from core.webhooks import signing, webhook_event_publish
from core.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS
from guardians.models import School
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory, give_card_money
from tests.webhooks.conftest import events_of, subscribe

pytestmark = pytest.mark.django_db

NOW = "2026-11-30T01:00:00Z"  # Monday 12:00 in Sydney
NOW_UNIX = str(int(datetime.fromisoformat(NOW).timestamp()))


@pytest.fixture
def charging(terminal_client):
    """A student with $50 on a live card and a canteen terminal at the student's school."""
    link = GuardianLinkFactory()
    StudentCardFactory(student=link.student, identifier="CARD-0000-0042")
    give_card_money(link.student, 5000)
    terminal = terminal_client(MerchantFactory(school=link.student.school))

    def charge(amount=350, key=None):
        return terminal.post(
            "/api/v1/terminal/charges",
            {"card_identifier": "CARD-0000-0042", "amount": amount, "categories": ["canteen"], "description": "Banana bread"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )

    charge.student = link.student
    charge.terminal = terminal.terminal
    return charge


def test_a_card_charge_is_delivered_signed_with_an_event_id(charging, receiver, verify_recipe, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"], school=charging.student.school)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = charging(amount=350)
        assert response.status_code == 201, response.content

        [delivery] = receiver.received
        assert delivery.verifies_with(subscription.secret)  # the standardwebhooks library itself
        assert verify_recipe(delivery.headers, delivery.body, subscription.secret)
        assert not delivery.verifies_with(signing.secret_generate())
        assert not verify_recipe(delivery.headers, delivery.body, "whsec_someone_else")
        assert not verify_recipe(delivery.headers, delivery.body.replace(b"350", b"351"), subscription.secret)
        for header, forged in (("webhook-id", str(uuid.uuid4())), ("webhook-timestamp", str(int(NOW_UNIX) - 1))):
            assert not verify_recipe({**delivery.headers, header: forged}, delivery.body, subscription.secret)
    with time_machine.travel("2026-11-30T01:05:01Z", tick=False):  # past the 5-minute tolerance: a replay
        assert not verify_recipe(delivery.headers, delivery.body, subscription.secret)

    [event] = events_of("card.charged")
    assert delivery.headers["webhook-id"] == str(event.pk)
    assert delivery.headers["webhook-timestamp"] == NOW_UNIX
    [signature] = delivery.signatures
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", signature)
    assert "Tuckbox-Signature" not in delivery.headers
    assert delivery.headers["Tuckbox-Event-Id"] == str(event.pk)
    assert delivery.headers["Tuckbox-Event-Type"] == "card.charged"
    assert delivery.headers["Tuckbox-Delivery-Attempt"] == "1"
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.json == {
        "id": str(event.pk),
        "type": "card.charged",
        "created_at": "2026-11-30T01:00:00Z",
        "timestamp": "2026-11-30T01:00:00Z",
        "api_version": "v1",
        "school_id": charging.student.school_id,
        "program_id": None,
        "data": {
            "charge_id": response.json()["charge_id"],
            "student_id": charging.student.pk,
            "merchant_id": charging.terminal.merchant_id,
            "terminal_id": charging.terminal.pk,
            "amount": 350,
            "currency": "AUD",
            "categories": ["canteen"],
            "created_at": "2026-11-30T01:00:00Z",
        },
    }
    assert b"CARD" not in delivery.body and b"0042" not in delivery.body  # never the card's identifier
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.response_status, stored.response_body_excerpt) == ("succeeded", 1, 200, "ok")
    assert list(stored.attempt_log.values_list("number", "response_status")) == [(1, 200)]


def test_one_event_per_charge_and_none_for_a_replay_or_a_decline(charging, receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["card.charged"], school=charging.student.school)
    with django_capture_on_commit_callbacks(execute=True):
        first = charging(amount=300, key="sale-1")
        replay = charging(amount=300, key="sale-1")
        declined = charging(amount=6000, key="sale-2")  # more than the balance
    assert (first.status_code, replay.status_code, declined.status_code) == (201, 201, 402)
    assert replay["Idempotent-Replayed"] == "true"
    assert len(events_of("card.charged")) == 1
    assert len(receiver.received) == 1


def test_a_charge_published_in_a_rolled_back_transaction_is_never_sent(charging, receiver, django_capture_on_commit_callbacks):
    from django.db import transaction

    subscription = subscribe(receiver.url, ["card.charged"], school=charging.student.school)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
                raise RuntimeError("the money never moved")
        except RuntimeError:
            pass
    assert WebhookEvent.objects.count() == 0 and receiver.received == []


def test_only_the_tenants_subscriptions_that_want_the_type_receive_it(receiver):
    wanted = subscribe(receiver.url, ["card.charged"])
    school = School.objects.get(pk=wanted.school_id)
    subscribe(receiver.url, ["canteen.order_placed"], school=school)  # another type
    subscribe(receiver.url, ["card.charged"])  # another school
    paused = subscribe(receiver.url, ["card.charged"], school=school)
    paused.is_active = False
    paused.save()

    event = webhook_event_publish(event_type="card.charged", school_id=wanted.school_id, data={"charge_id": 1})

    assert [delivery.subscription_id for delivery in event.deliveries.all()] == [wanted.pk]
    assert webhook_event_publish(event_type="card.charged", school_id=None, data={}) is None
    with pytest.raises(ValueError, match="unknown webhook event type"):
        webhook_event_publish(event_type="card.swiped", school_id=wanted.school_id, data={})


def _due_retry():
    # Beat runs it in autocommit; here the test's transaction holds the outbox rows until "commit".
    with TestCase.captureOnCommitCallbacks(execute=True):
        return retry_due_webhook_deliveries()


def test_a_500_is_retried_with_backoff_until_it_succeeds(receiver, verify_recipe, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.answer(500)
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            event = webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 7})
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
        assert delivery.next_attempt_at == clock.now() + timedelta(minutes=1)

        traveller.shift(timedelta(seconds=59))
        assert _due_retry() == 0  # not due yet
        traveller.shift(timedelta(seconds=1))
        assert _due_retry() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.next_attempt_at) == ("succeeded", 2, 200, None)
    assert list(delivery.attempt_log.values_list("number", "response_status", "response_body_excerpt")) == [
        (1, 500, "status 500"),
        (2, 200, "ok"),
    ]
    first, second = receiver.received
    # The same event, byte for byte: the receiver deduplicates on Tuckbox-Event-Id.
    assert first.body == second.body
    assert first.headers["Tuckbox-Event-Id"] == second.headers["Tuckbox-Event-Id"] == str(event.pk)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(event.pk)  # one message, two attempts
    assert (first.headers["Tuckbox-Delivery-Attempt"], second.headers["Tuckbox-Delivery-Attempt"]) == ("1", "2")
    with time_machine.travel(delivery.last_attempt_at, tick=False):
        assert verify_recipe(second.headers, second.body, subscription.secret)


def test_an_unreachable_endpoint_gets_the_event_exactly_once_when_it_is_back(receiver, django_capture_on_commit_callbacks):
    """Connection refused for two attempts (the receiver's host down), then up again."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # bound, never listening: refused
        subscription = subscribe(receiver.url, ["card.charged"])
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=nowhere)
        with time_machine.travel(NOW, tick=False) as traveller:
            with django_capture_on_commit_callbacks(execute=True):
                event = webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 7})
            delivery = WebhookDelivery.objects.get()
            assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, None)
            traveller.move_to(delivery.next_attempt_at)
            assert _due_retry() == 1
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts) == ("pending", 2)

            WebhookSubscription.objects.filter(pk=subscription.pk).update(url=receiver.url)  # the host is back
            traveller.move_to(delivery.next_attempt_at)
            assert _due_retry() == 1
            traveller.shift(timedelta(days=4))
            assert _due_retry() == 0  # nothing left to send

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    [received] = receiver.received
    assert received.headers["Tuckbox-Event-Id"] == str(event.pk) and received.headers["Tuckbox-Delivery-Attempt"] == "3"


def test_the_schedule_gives_up_after_about_three_days(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.answer(*([503] * MAX_ATTEMPTS))
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 7})
        delivery = WebhookDelivery.objects.get()
        for _ in RETRY_DELAYS:
            delivery.refresh_from_db()
            traveller.move_to(delivery.next_attempt_at)
            assert _due_retry() == 1
        delivery.refresh_from_db()
        assert _due_retry() == 0

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert len(receiver.received) == MAX_ATTEMPTS
    starts = list(delivery.attempt_log.values_list("started_at", flat=True))
    assert timedelta(days=2, hours=20) < starts[-1] - starts[0] < timedelta(days=3, hours=4)
    assert [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)] == RETRY_DELAYS


def test_a_410_disables_the_subscription_and_cancels_what_was_waiting(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.answer(500, 410)
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 2})
        traveller.shift(timedelta(hours=1))
        # Only the first delivery went to 500 and is due again; the second answered 410.
        subscription.refresh_from_db()
        assert (subscription.is_active, subscription.disabled_reason) == (False, "gone")
        assert subscription.disabled_at == clock.now() - timedelta(hours=1)
        assert _due_retry() == 0
        assert webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 3}) is None

    statuses = dict(WebhookDelivery.objects.values_list("event__data__charge_id", "status"))
    assert statuses == {1: "cancelled", 2: "failed"}
    assert len(receiver.received) == 2


def test_timeouts_redirects_and_refused_connections_are_logged_and_retried(receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 0.3
    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.delay = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status, delivery.last_error) == ("pending", None, "timeout")

    receiver.delay = 0
    receiver.answer(302)
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        _due_retry()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.attempts) == ("pending", 302, 2)  # redirects are not followed
    assert len(receiver.received) == 2

    subscription.url = "http://127.0.0.1:9/nobody-listens"
    subscription.save()
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        _due_retry()
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error.startswith("ConnectionError")
    assert list(delivery.attempt_log.values_list("error", flat=True))[0] == "timeout"


def test_private_addresses_are_refused_in_production(receiver, settings, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error.startswith("target_refused")
    assert receiver.received == []


def test_a_rotated_secret_signs_alongside_the_new_one_for_its_grace_period(receiver, verify_recipe, django_capture_on_commit_callbacks):
    from guardians.webhook_subscriptions import webhook_subscription_rotate_secret

    subscription = subscribe(receiver.url, ["card.charged"])
    old_secret = subscription.secret
    with time_machine.travel(NOW, tick=False):
        subscription = webhook_subscription_rotate_secret(subscription=subscription, grace_hours=24)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
        during = receiver.received[-1]
        assert len(during.signatures) == 2 and all(signature.startswith("v1,") for signature in during.signatures)
        assert during.verifies_with(old_secret) and during.verifies_with(subscription.secret)
        assert verify_recipe(during.headers, during.body, old_secret)
        assert verify_recipe(during.headers, during.body, subscription.secret)
        assert not during.verifies_with(signing.secret_generate())

    with time_machine.travel("2026-12-01T01:00:01Z", tick=False):  # a day and a second later
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 2})
        after = receiver.received[-1]
        assert len(after.signatures) == 1
        assert not after.verifies_with(old_secret) and after.verifies_with(subscription.secret)
        assert not verify_recipe(after.headers, after.body, old_secret)
        assert verify_recipe(after.headers, after.body, subscription.secret)


def test_an_attempt_is_made_once_even_if_two_workers_get_it(receiver, django_capture_on_commit_callbacks):
    from core.tasks import deliver_webhook

    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.answer(500)
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
        delivery = WebhookDelivery.objects.get()
        deliver_webhook(delivery.pk)  # a duplicate task before it is due: nothing
        traveller.shift(timedelta(minutes=1))
        deliver_webhook(delivery.pk)
        deliver_webhook(delivery.pk)  # the same task again after it succeeded: nothing
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("succeeded", 2, 2)


def test_the_payload_is_stored_as_sent(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["canteen.orders_cut_off"])
    with django_capture_on_commit_callbacks(execute=True):
        event = webhook_event_publish(
            event_type="canteen.orders_cut_off", school_id=subscription.school_id, data={"service_date": date(2026, 12, 2), "orders_posted": 3}
        )
    assert event.data == {"service_date": "2026-12-02", "orders_posted": 3}
    assert json.loads(receiver.received[0].body)["data"] == event.data


def test_deliveries_survive_a_broker_outage(receiver, monkeypatch, django_capture_on_commit_callbacks):
    from core import tasks

    subscription = subscribe(receiver.url, ["card.charged"])

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        event = webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
    assert event is not None and receiver.received == []
    monkeypatch.undo()  # the broker is back: the beat task finds the delivery due
    assert _due_retry() == 1
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_the_delivery_log_is_kept_thirty_days_unless_something_is_pending(receiver, django_capture_on_commit_callbacks):
    from core.tasks import purge_old_webhook_events

    subscription = subscribe(receiver.url, ["card.charged"])
    receiver.answer(200, 500)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            done = webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 1})
            waiting = webhook_event_publish(event_type="card.charged", school_id=subscription.school_id, data={"charge_id": 2})
    with time_machine.travel("2026-12-30T01:00:01Z", tick=False):
        assert purge_old_webhook_events() > 0
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert not WebhookDelivery.objects.filter(event_id=done.pk).exists()
