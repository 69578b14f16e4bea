"""What a terminal reads from a card, as it is stored: a keyed hash (HMAC with CARD_IDENTIFIER_KEY)."""

import hashlib
import hmac

from django.conf import settings


def normalise_card_identifier(raw: str) -> str:
    """Spaces and dashes are how numbers are printed, not part of them."""
    return "".join(raw.split()).replace("-", "").upper()


def card_identifier_hash(raw: str) -> str:
    key = settings.CARD_IDENTIFIER_KEY.encode()
    return hmac.new(key, normalise_card_identifier(raw).encode(), hashlib.sha256).hexdigest()
