"""Signed-in sessions and their rotating refresh tokens (see AuthSession).

Token encoding is the HTTP layer's business; here we only decide which token
ids are still good, under a row lock so two refreshes cannot both succeed.
"""

from datetime import datetime

from django.db import transaction

from core import clock
from core.locks import lock_one_or_none
from guardians.errors import RefreshTokenReused, SessionRevoked, WrongPassword
from guardians.models import AuthSession, User


def session_start(*, user: User, refresh_jti: str, expires_at: datetime, user_agent: str = "") -> AuthSession:
    return AuthSession.objects.create(
        user=user, current_refresh_jti=refresh_jti, expires_at=expires_at, user_agent=user_agent[:300]
    )


def session_rotate(*, session_id, presented_jti: str, new_jti: str, expires_at: datetime) -> AuthSession:
    """Swap the session's current refresh token for a new one.

    Presenting any refresh token but the current one revokes the whole session:
    either a thief or the rightful owner holds a stale copy, and we cannot tell which.
    """
    with transaction.atomic():
        session = lock_one_or_none(AuthSession.objects.select_related("user").filter(pk=session_id))
        if session is None or session.revoked_at is not None or not session.user.is_active:
            raise SessionRevoked()
        if session.current_refresh_jti == presented_jti:
            session.current_refresh_jti = new_jti
            session.refreshed_at = clock.now()
            session.expires_at = expires_at
            session.save(update_fields=["current_refresh_jti", "refreshed_at", "expires_at"])
            return session
        _revoke(session, reason="refresh_reuse")
    # Raised after the block so that the revocation commits although the request is refused.
    raise RefreshTokenReused()


def session_revoke(*, session_id, reason: str = "logout") -> None:
    with transaction.atomic():
        session = lock_one_or_none(AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True))
        if session is not None:
            _revoke(session, reason=reason)


def sessions_revoke_all(*, user: User, reason: str, keep_session_id=None) -> int:
    return (
        AuthSession.objects.filter(user=user, revoked_at__isnull=True)
        .exclude(pk=keep_session_id)
        .update(revoked_at=clock.now(), revoked_reason=reason)
    )


def session_is_active(session: AuthSession) -> bool:
    return session.revoked_at is None and session.expires_at > clock.now() and session.user.is_active


def _revoke(session: AuthSession, *, reason: str) -> None:
    session.revoked_at = clock.now()
    session.revoked_reason = reason
    session.save(update_fields=["revoked_at", "revoked_reason"])


def user_password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new (already validated) password and end every session the user has."""
    if not user.check_password(current_password):
        raise WrongPassword()
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions_revoke_all(user=user, reason="password_change")
