"""Errors of outbound webhooks: stable codes, no HTTP (api/errors.py maps the kinds)."""

from core.errors import ConflictError, DomainError


class WebhookUrlInvalid(DomainError):
    code = "webhook_url_invalid"
    default_message = "The webhook URL must be an absolute http(s) URL without credentials."


class WebhookUrlNotAllowed(DomainError):
    code = "webhook_url_not_allowed"
    default_message = "The webhook URL points at a private, loopback or otherwise non-public address, or is not https."


class WebhookEventTypeOutOfScope(DomainError):
    code = "webhook_event_type_out_of_scope"
    default_message = "This subscription cannot receive some of the event types asked for."


class WebhookSubscriptionLimit(ConflictError):
    code = "webhook_subscription_limit"
    default_message = "This school or program already has as many webhook subscriptions as it may."


class WebhookSubscriptionDisabled(ConflictError):
    code = "webhook_subscription_disabled"
    default_message = "This subscription is disabled; enable it before sending it a test delivery."
