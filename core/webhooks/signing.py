"""Signing deliveries in the Standard Webhooks format (standardwebhooks.com), with its library.

Three headers: `webhook-id` (the event's id: the same on every attempt, the receiver's
deduplication key), `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`:
`v1,<base64 HMAC-SHA256>` over `"<id>.<timestamp>.<raw body>"`, keyed with the secret's bytes
(the base64 after `whsec_`). While a rotated-out secret is in its grace period the header carries
one signature per secret, space-separated as the spec allows, so a receiver holding either one
verifies. Integrators verify with the `standardwebhooks` library of their language (docs/api.md).
"""

import base64
import binascii
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"
# The spec asks for 24 to 64 random bytes.
SECRET_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_headers(*, message_id: str, signing_secrets: list[str], timestamp: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret given."""
    at = timestamp.astimezone(UTC)  # the library reads the datetime's fields as UTC
    payload = body.decode()
    signature = " ".join(Webhook(secret).sign(message_id, at, payload) for secret in signing_secrets)
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(int(at.timestamp())), SIGNATURE_HEADER: signature}


def signature_verify(*, headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The receiver's check, as the library makes it (five minutes of tolerance on the timestamp)."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error):
        return False
    return True


def secret_is_standard(secret: str) -> bool:
    """`whsec_` and strict base64 of 24 to 64 bytes: what every Standard Webhooks library accepts."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        return False
    return MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES


def secret_from_legacy(secret: str) -> str:
    """A pre-Standard-Webhooks secret (`whsec_` + URL-safe text, used whole as the HMAC key) in the
    standard form with the same key bytes: an integrator can derive it from the secret they hold."""
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode()
