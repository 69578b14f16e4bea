"""Reads: which subscriptions a caller reaches, and their deliveries. Others' are invisible (404)."""

from django.db.models import Prefetch, Q, QuerySet

from core.models_webhooks import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription


def webhook_subscriptions_visible_to(*, school_id: int | None, program_ids: list[int]) -> QuerySet[WebhookSubscription]:
    """Subscriptions of the caller's school (its admin staff) and of the programs they administer.

    The caller works out its own tenants (api/ knows who administers which program; we may not).
    """
    visible = Q(pk__in=[])
    if school_id is not None:
        visible |= Q(school_id=school_id)
    if program_ids:
        visible |= Q(program_id__in=program_ids)
    return WebhookSubscription.objects.filter(visible)


def webhook_deliveries_of(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookDeliveryAttempt.objects.order_by("number")))
    )
