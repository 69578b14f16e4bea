"""One canonical byte form of JSON content, so a hash names exactly one content."""

import hashlib
import json


def canonical_json(value) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same content always gives the same bytes (and PostgreSQL's
    jsonb, which reorders keys, reads back to the same bytes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
