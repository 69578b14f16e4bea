"""Outbound webhooks: integrators subscribe to our events and receive signed HTTP POSTs.

Apps publish with `webhook_event_publish` inside the transaction that makes the event true.
The registry of event types is `event_types.EVENT_TYPES`; signing is `signing`; sending
and retrying is `delivery`; managing subscriptions is `subscriptions`.
"""

from guardians.webhooks.event_types import EVENT_TYPES
from guardians.webhooks.publish import webhook_event_publish

__all__ = ["EVENT_TYPES", "webhook_event_publish"]
