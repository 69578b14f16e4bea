"""Outbound webhooks: integrators subscribe to our events and receive signed HTTP POSTs.

Apps publish with `webhook_event_publish` inside the transaction that makes the event true.
The registry of event types is `event_types.EVENT_TYPES`; signing is `signing`; sending
and retrying is `delivery`. Managing subscriptions is tenant business: `guardians.webhook_subscriptions`.
"""

from core.webhooks.event_types import EVENT_TYPES
from core.webhooks.publish import webhook_event_publish

__all__ = ["EVENT_TYPES", "webhook_event_publish"]
