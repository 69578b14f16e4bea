"""Terminal API keys: issue, verify, revoke."""

import hashlib
import hmac
import secrets

from django.db import transaction

from core import clock
from wallet.models import Merchant, Terminal

KEY_PREFIX = "tbx_term_"


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _compose(prefix: str, secret: str) -> str:
    return f"{KEY_PREFIX}{prefix}_{secret}"


def terminal_create(*, merchant: Merchant, label: str, raw_key: str | None = None) -> tuple[Terminal, str]:
    """Create a terminal and return it with its key, which is never stored or shown again.

    `raw_key` exists only for the demo data, whose printed key must stay the same across runs.
    """
    if raw_key is None:
        raw_key = _compose(secrets.token_hex(6), secrets.token_urlsafe(32))
    prefix = parse_prefix(raw_key)
    if prefix is None:
        raise ValueError("malformed terminal key")
    terminal = Terminal.objects.create(merchant=merchant, label=label, key_prefix=prefix, key_hash=_hash_key(raw_key))
    return terminal, raw_key


def terminal_revoke(*, terminal: Terminal) -> Terminal:
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    terminal.refresh_from_db()
    return terminal


def parse_prefix(raw_key: str) -> str | None:
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 120:
        return None
    prefix, _, secret = raw_key[len(KEY_PREFIX) :].partition("_")
    if not prefix or len(prefix) > 16 or len(secret) < 22:  # 22 url-safe chars = 132 bits
        return None
    return prefix


def terminal_for_key(raw_key: str) -> Terminal | None:
    """The active terminal this key belongs to, or None. Constant-time on the secret."""
    prefix = parse_prefix(raw_key)
    if prefix is None:
        return None
    # The one indexed probe (the unique key prefix) of every terminal request, revocation included.
    terminal = (
        Terminal.objects.select_related("merchant")
        .filter(key_prefix=prefix, revoked_at__isnull=True, merchant__is_active=True)
        .first()
    )
    if terminal is None or not hmac.compare_digest(terminal.key_hash, _hash_key(raw_key)):
        return None
    return terminal
