"""Publishing an event: record it and its deliveries in the caller's transaction, send after commit."""

import json

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from core.jobs import enqueue_after_commit
from guardians import clock
from guardians.models_webhooks import WebhookDelivery, WebhookEvent, WebhookSubscription
from guardians.webhooks.event_types import EVENT_TYPES

log = structlog.get_logger("guardians.webhooks")


def webhook_event_publish(
    *, event_type: str, data: dict, school_id: int | None = None, program_id: int | None = None
) -> WebhookEvent | None:
    """Record `event_type` for the tenant's active subscriptions that want it; deliver after commit.

    Call it inside the transaction that makes the event true, so a rolled-back write never
    announces anything and an idempotent replay (which writes nothing) announces nothing
    again. With no interested subscription nothing is stored and None is returned.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}: add it to guardians.webhooks.event_types")
    subscriptions = _interested(event_type=event_type, school_id=school_id, program_id=program_id)
    if not subscriptions:
        return None
    # Stored as it will be sent: dates and decimals become strings once, here.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return event_record(event_type=event_type, data=payload, school_id=school_id, program_id=program_id, subscriptions=subscriptions)


def _school_subscriptions(school_id: int):
    """Every money movement asks, inside its transaction."""
    return WebhookSubscription.objects.filter(is_active=True, school_id=school_id).order_by("pk")


def _program_subscriptions(program_id: int):
    return WebhookSubscription.objects.filter(is_active=True, program_id=program_id).order_by("pk")


def _interested(*, event_type: str, school_id: int | None, program_id: int | None) -> list[WebhookSubscription]:
    if school_id is None and program_id is None:
        return []
    if school_id is not None:
        tenant = list(_school_subscriptions(school_id))
    else:
        tenant = list(_program_subscriptions(program_id))
    # A tenant has a handful of subscriptions: filtering the JSON list here works on every database.
    return [subscription for subscription in tenant if event_type in subscription.event_types]


def event_record(*, event_type: str, data: dict, school_id, program_id, subscriptions: list[WebhookSubscription]) -> WebhookEvent:
    """Store the event and one due delivery per subscription; each is enqueued after commit."""
    now = clock.now()
    with transaction.atomic():
        event = WebhookEvent.objects.create(type=event_type, school_id=school_id, program_id=program_id, data=data, created_at=now)
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=event, subscription=subscription, next_attempt_at=now, created_at=now) for subscription in subscriptions]
        )
        for delivery in deliveries:
            delivery_enqueue(delivery.pk)
    return event


def delivery_enqueue(delivery_id: int) -> None:
    from guardians.tasks import deliver_webhook  # tasks import the webhooks package

    enqueue_after_commit(deliver_webhook, delivery_id)
