"""Publishing an event: record it and its deliveries in the caller's transaction, send after commit."""

import json

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from core import clock
from core import sql as sql_reads
from core.jobs import enqueue_after_commit
from core.models_webhooks import WebhookDelivery, WebhookEvent, WebhookSubscription
from core.webhooks.event_types import EVENT_TYPES

log = structlog.get_logger("core.webhooks")


def webhook_event_publish(
    *, event_type: str, data: dict, school_id: int | None = None, program_id: int | None = None
) -> WebhookEvent | None:
    """Record `event_type` for the tenant's active subscriptions that want it; deliver after commit.

    Call it inside the transaction that makes the event true, so a rolled-back write never
    announces anything and an idempotent replay (which writes nothing) announces nothing
    again. With no interested subscription nothing is stored and None is returned.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}: add it to core.webhooks.event_types")
    subscriptions = _interested(event_type=event_type, school_id=school_id, program_id=program_id)
    if not subscriptions:
        return None
    # Stored as it will be sent: dates and decimals become strings once, here.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return event_record(event_type=event_type, data=payload, school_id=school_id, program_id=program_id, subscriptions=subscriptions)


def _interested(*, event_type: str, school_id: int | None, program_id: int | None) -> list[WebhookSubscription]:
    """The tenant's active subscriptions that want `event_type`: one indexed query (jsonb containment)."""
    if school_id is None and program_id is None:
        return []
    # Asked by every money decision that publishes, so written as SQL (core/sql.py says why).
    tenant, tenant_id = ("school_id", school_id) if school_id is not None else ("program_id", program_id)
    sql = f"""
        SELECT {sql_reads.columns(WebhookSubscription, "ws")} FROM guardians_webhooksubscription ws
         WHERE ws.is_active AND ws.{tenant} = %s AND ws.event_types @> %s::jsonb
         ORDER BY ws.id"""
    return [subscription for (subscription,) in sql_reads.fetch(sql, [tenant_id, json.dumps([event_type])], (WebhookSubscription,))]


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
    enqueue_after_commit("core.tasks.deliver_webhook", delivery_id)
