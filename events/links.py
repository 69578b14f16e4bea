"""Signed, expiring links in emails: open an event's details, and pay, without signing in.

The token (django.core.signing under EVENTS_LINK_KEY, a secret of its own, salted for
this purpose, with a max_age) names the event and the guardian's user; whoever follows it sees only that guardian's
children and may only pay their fees. Revoking the guardian's link to a child
takes effect at once: the link is re-checked on every use.
"""

from django.conf import settings
from django.core import signing

from events.errors import EventLinkExpired, EventLinkInvalid

SALT = "events.guardian-link.v1"


def event_link_token(*, event_id: int, user_id: int) -> str:
    return signing.dumps({"e": event_id, "u": user_id}, key=settings.EVENTS_LINK_KEY, salt=SALT, compress=False)


def event_link_url(*, event_id: int, user_id: int) -> str:
    return f"{settings.EVENTS_PUBLIC_BASE_URL.rstrip('/')}/api/v1/event-links/{event_link_token(event_id=event_id, user_id=user_id)}"


def event_link_read(token: str) -> tuple[int, int]:
    """(event_id, user_id) from a token, or event_link_invalid / event_link_expired."""
    try:
        payload = signing.loads(
            token,
            key=settings.EVENTS_LINK_KEY,
            fallback_keys=settings.EVENTS_LINK_KEY_FALLBACKS,
            salt=SALT,
            max_age=settings.EVENTS_LINK_MAX_AGE,
        )
    except signing.SignatureExpired:
        raise EventLinkExpired() from None
    except signing.BadSignature:
        raise EventLinkInvalid() from None
    if not isinstance(payload, dict) or type(payload.get("e")) is not int or type(payload.get("u")) is not int:
        raise EventLinkInvalid()
    return payload["e"], payload["u"]
