"""Terminal API keys: issue, verify, rotate, revoke; and what a merchant administrator does to their terminals.

A key is shown once, when it is issued, and only its SHA-256 is stored. Rotating gives the terminal a new
prefix and hash in one UPDATE, so the old key stops working at once: there is no overlap, because a key is
rotated mostly after it leaked or a device went missing, and the terminal's operator types the new key in
while standing at it. Every change a merchant administrator makes is recorded in the audit log in its own
transaction. `terminal_create` records nothing: the demo data and test fixtures call it directly.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import connection, transaction

from audit.actors import actor_for_merchant_admin
from audit.services import audit_record
from core import clock
from core.locks import lock_one
from wallet import queries
from wallet.errors import TerminalRevoked
from wallet.models import Merchant, MerchantAdministrator, Terminal

KEY_PREFIX = "tbx_term_"


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _compose(prefix: str, secret: str) -> str:
    return f"{KEY_PREFIX}{prefix}_{secret}"


def _new_key() -> str:
    return _compose(secrets.token_hex(6), secrets.token_urlsafe(32))


def terminal_create(*, merchant: Merchant, label: str, raw_key: str | None = None) -> tuple[Terminal, str]:
    """Create a terminal and return it with its key, which is never stored or shown again.

    `raw_key` exists only for the demo data, whose printed key must stay the same across runs.
    """
    if raw_key is None:
        raw_key = _new_key()
    prefix = parse_prefix(raw_key)
    if prefix is None:
        raise ValueError("malformed terminal key")
    terminal = Terminal.objects.create(merchant=merchant, label=label, key_prefix=prefix, key_hash=_hash_key(raw_key))
    return terminal, raw_key


def terminal_register(*, merchant: Merchant, label: str, by: MerchantAdministrator | None = None) -> tuple[Terminal, str]:
    """A new terminal of `merchant` and its key (shown once), recorded in the audit log."""
    with transaction.atomic():
        terminal, raw_key = terminal_create(merchant=merchant, label=label)
        _audit("terminal.register", terminal, by, after={"label": label})
    return terminal, raw_key


def terminal_rename(*, terminal: Terminal, label: str, by: MerchantAdministrator | None = None) -> Terminal:
    with transaction.atomic():
        locked = _locked_active(terminal)
        before = locked.label
        if before != label:
            locked.label = label
            locked.save(update_fields=["label"])
            _audit("terminal.rename", locked, by, before={"label": before}, after={"label": label})
    return locked


def terminal_key_rotate(*, terminal: Terminal, by: MerchantAdministrator | None = None) -> tuple[Terminal, str]:
    """Give the terminal a new key (returned, shown once); the old one stops working when this commits."""
    raw_key = _new_key()
    with transaction.atomic():
        locked = _locked_active(terminal)
        rotated_before = locked.key_rotated_at
        locked.key_prefix = parse_prefix(raw_key)
        locked.key_hash = _hash_key(raw_key)
        locked.key_rotated_at = clock.now()
        locked.save(update_fields=["key_prefix", "key_hash", "key_rotated_at"])
        # The audit log names no part of a key, not even the prefix (audit/redaction.py).
        _audit("terminal.rotate_key", locked, by, before={"key_rotated_at": rotated_before}, after={"key_rotated_at": locked.key_rotated_at})
    return locked, raw_key


def terminal_revoke(*, terminal: Terminal, by: MerchantAdministrator | None = None) -> Terminal:
    """Revoke at once: the next request with its key is refused. Revoking a revoked terminal changes nothing."""
    with transaction.atomic():
        now = clock.now()
        if Terminal.objects.filter(pk=terminal.pk, revoked_at__isnull=True).update(revoked_at=now):
            _audit("terminal.revoke", terminal, by, before={"revoked_at": None}, after={"revoked_at": now})
    terminal.refresh_from_db()
    return terminal


def _locked_active(terminal: Terminal) -> Terminal:
    # FOR UPDATE: a rotation changes key_prefix, a unique column.
    locked = lock_one(Terminal.objects.select_related("merchant").filter(pk=terminal.pk), key=True)
    if locked.revoked_at is not None:
        raise TerminalRevoked(terminal_id=locked.pk)
    return locked


def _audit(action: str, terminal: Terminal, by: MerchantAdministrator | None, **values) -> None:
    audit_record(
        action=action,
        object_type="terminal",
        object_id=terminal.pk,
        school_id=terminal.merchant.school_id,
        details={"merchant_id": terminal.merchant_id},
        actor=actor_for_merchant_admin(by) if by is not None else None,
        **values,
    )


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
    terminal = queries.terminal_by_prefix(prefix)
    if terminal is None or not hmac.compare_digest(terminal.key_hash, _hash_key(raw_key)):
        return None
    terminal_use_note(terminal)
    return terminal


# "Last used" is for a person reading the terminal list, so a minute's precision is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# SKIP LOCKED: a request never waits on bookkeeping. If the row is locked (a rotation, or another
# request noting the same minute), this request skips the write and a later one makes it.
_NOTE_USE_SQL = f"""
UPDATE {Terminal._meta.db_table} SET last_used_at = %s
WHERE id = (SELECT id FROM {Terminal._meta.db_table}
            WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s) FOR UPDATE SKIP LOCKED)
"""


def terminal_use_note(terminal: Terminal) -> bool:
    """Stamp `last_used_at`, at most once a LAST_USED_RESOLUTION per terminal; True if this call wrote it.

    The decision is made on the row the key look-up has just read, so a request inside the same
    minute costs nothing more; the first one after it makes one guarded UPDATE, whose WHERE keeps
    concurrent requests from writing the same minute twice.
    """
    now = clock.now()
    if terminal.last_used_at is not None and now - terminal.last_used_at < LAST_USED_RESOLUTION:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_NOTE_USE_SQL, [now, terminal.pk, now - LAST_USED_RESOLUTION])
        wrote = cursor.rowcount == 1
    if wrote:
        terminal.last_used_at = now
    return wrote
