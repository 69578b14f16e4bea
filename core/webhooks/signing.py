"""Signing deliveries: `Tuckbox-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`.

Each `v1` is HMAC-SHA256, keyed with a subscription secret (its UTF-8 bytes, `whsec_` prefix
included), over `"<t>.<raw body>"`. While a rotated-out secret is in its grace period the
header carries one `v1` per secret, so a receiver holding either one verifies. The
receiver's recipe is in docs/api.md; `signature_verify` below is the same check.
"""

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
HEADER = "Tuckbox-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, signing_secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in signing_secrets)])


def signature_verify(*, header: str, body: bytes, secret: str, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """True when one `v1` of the header is ours and the timestamp is within `tolerance` of `now`."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or abs(now - int(timestamps[0])) > tolerance:
        return False
    expected = signature(secret, int(timestamps[0]), body)
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")
