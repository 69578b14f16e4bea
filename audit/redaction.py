"""What an audit row may hold: JSON values, never a credential or a drawn signature.

Values are redacted by field name (the log's own markers plus the ones that only audit rows
meet: hashes of codes and keys, signature drawings) and by shape (a value that looks like one
of our secrets, or a bearer token, whatever field it sits in).
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from config.logging import SECRET_FIELD_MARKERS

REDACTED = "[redacted]"
AUDIT_SECRET_MARKERS = (*SECRET_FIELD_MARKERS, "signature", "_hash", "strokes", "raw_code", "link_code", "key_prefix")
_SECRET_VALUE = re.compile(r"^(whsec_|tbx_term_|sk_(live|test)_|rk_(live|test)_|Bearer\s|eyJ[A-Za-z0-9_-]{8,}\.)")


def is_secret_field(name: str) -> bool:
    lowered = str(name).lower()
    return any(marker in lowered for marker in AUDIT_SECRET_MARKERS)


def redacted(values: dict | None) -> dict:
    """A JSON-ready copy of `values` with every secret blanked, however deep it sits."""
    return {str(name): REDACTED if is_secret_field(name) else _clean(value) for name, value in (values or {}).items()}


def _clean(value):
    if isinstance(value, dict):
        return redacted(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, str):
        return REDACTED if _SECRET_VALUE.match(value) else value
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if hasattr(value, "pk"):  # a model instance: its id is what the log needs
        return value.pk
    return str(value)
