"""Managing subscriptions: create, change, delete, rotate the secret, ping. Reads are in selectors."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from audit.services import audit_record, changed_fields, snapshot
from core import clock
from core.locks import lock_one
from core.models_webhooks import WebhookEvent, WebhookSubscription
from core.webhooks import signing
from core.webhooks.delivery import deliveries_cancel
from core.webhooks.errors import WebhookEventTypeOutOfScope, WebhookSubscriptionDisabled, WebhookSubscriptionLimit
from core.webhooks.event_types import PING, PROGRAM, SCHOOL, event_types_for_scope
from core.webhooks.publish import event_record
from core.webhooks.targets import url_check
from guardians.models import School, User


def webhook_subscription_create(
    *,
    url: str,
    event_types: list[str],
    created_by: User,
    school: School | None = None,
    program_id: int | None = None,
    description: str = "",
) -> WebhookSubscription:
    """A subscription for one tenant (a school, or a program the caller administers: checked by the caller).

    Event types must be of the tenant's scope; the URL must pass `url_check`.
    """
    if (school is None) == (program_id is None):
        raise ValueError("a subscription belongs to exactly one school or program")
    scope = SCHOOL if school is not None else PROGRAM
    _check_event_types(event_types, scope)
    url_check(url)
    with transaction.atomic():
        tenant = WebhookSubscription.objects.filter(school_id=school.pk) if school else WebhookSubscription.objects.filter(program_id=program_id)
        # A guard against runaway scripts, not a quota: two concurrent creates may both pass it.
        if tenant.count() >= settings.WEBHOOKS_MAX_SUBSCRIPTIONS_PER_TENANT:
            raise WebhookSubscriptionLimit(maximum=settings.WEBHOOKS_MAX_SUBSCRIPTIONS_PER_TENANT)
        subscription = WebhookSubscription.objects.create(
            school_id=school.pk if school else None,
            program_id=program_id,
            url=url,
            description=description,
            event_types=_ordered(event_types),
            secret=signing.secret_generate(),
            created_by=created_by,
        )
        _audit(subscription, "webhook_subscription.create", after=snapshot(subscription, AUDITED_FIELDS), actor=created_by)
    return subscription


# What the audit log shows of a subscription (`secret` only ever as redacted: that it changed).
AUDITED_FIELDS = ("url", "description", "event_types", "is_active", "disabled_reason", "secret")


def _audit(subscription: WebhookSubscription, action: str, *, before=None, after=None, actor=None) -> None:
    audit_record(
        action=action,
        object_type="webhooks.subscription",
        object_id=subscription.pk,
        school_id=subscription.school_id,
        program_id=subscription.program_id,
        before=before,
        after=after,
        actor=actor,
    )


def webhook_subscription_update(*, subscription: WebhookSubscription, **changes) -> WebhookSubscription:
    """Change the URL, description, event types or `is_active`. Enabling again clears why it was disabled."""
    now = clock.now()
    if "event_types" in changes:
        _check_event_types(changes["event_types"], SCHOOL if subscription.school_id else PROGRAM)
        changes["event_types"] = _ordered(changes["event_types"])
    if "url" in changes:
        url_check(changes["url"])
    with transaction.atomic():
        subscription = lock_one(WebhookSubscription.objects.filter(pk=subscription.pk))
        before = snapshot(subscription, AUDITED_FIELDS)
        enabling = changes.get("is_active") is True and not subscription.is_active
        disabling = changes.get("is_active") is False and subscription.is_active
        for name, value in changes.items():
            setattr(subscription, name, value)
        if enabling:
            subscription.disabled_at, subscription.disabled_reason = None, ""
        if disabling:
            subscription.disabled_at = now
            subscription.disabled_reason = WebhookSubscription.DisabledReason.BY_USER
            deliveries_cancel(subscription_id=subscription.pk, error="subscription_disabled")
        subscription.updated_at = now
        subscription.save()
        before, after = changed_fields(before, snapshot(subscription, AUDITED_FIELDS))
        _audit(subscription, "webhook_subscription.update", before=before, after=after)
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Deleting drops its delivery log with it; disable instead to keep the log."""
    with transaction.atomic():
        _audit(subscription, "webhook_subscription.delete", before=snapshot(subscription, AUDITED_FIELDS))
        subscription.delete()


def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription, grace_hours: int | None = None) -> WebhookSubscription:
    """A new secret signs from now on; the old one also signs for `grace_hours` (0: it stops at once).

    Rotating again during a grace period ends the older secret's grace: only the latest
    previous secret is kept.
    """
    grace = timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS if grace_hours is None else grace_hours)
    now = clock.now()
    with transaction.atomic():
        subscription = lock_one(WebhookSubscription.objects.filter(pk=subscription.pk))
        subscription.previous_secret = subscription.secret if grace else ""
        subscription.previous_secret_expires_at = now + grace if grace else None
        subscription.secret = signing.secret_generate()
        subscription.updated_at = now
        subscription.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
        _audit(
            subscription,
            "webhook_subscription.rotate_secret",
            before={"secret": subscription.previous_secret or "retired"},
            after={"secret": subscription.secret, "old_one_signs_until": subscription.previous_secret_expires_at},
        )
    return subscription


def webhook_subscription_ping(*, subscription: WebhookSubscription) -> WebhookEvent:
    """Send a `webhook.ping` event to this subscription alone, through the normal delivery path."""
    if not subscription.is_active:
        raise WebhookSubscriptionDisabled()
    with transaction.atomic():
        return event_record(
            event_type=PING.name,
            data={**PING.example, "subscription_id": subscription.pk},
            school_id=subscription.school_id,
            program_id=subscription.program_id,
            subscriptions=[subscription],
        )


def _check_event_types(event_types: list[str], scope: str) -> None:
    allowed = set(event_types_for_scope(scope))
    refused = sorted(set(event_types) - allowed)
    if refused:
        raise WebhookEventTypeOutOfScope(
            f"A {scope} subscription cannot receive: {', '.join(refused)}.", refused=refused, allowed=sorted(allowed)
        )


def _ordered(event_types: list[str]) -> list[str]:
    return sorted(set(event_types))
