"""Who is calling: a signed-in user (JWT bearer) or a merchant terminal (API key).

Access tokens live 15 minutes and name their AuthSession (`sid`); every request
checks that the session is still open, so logout and a password change take
effect at once rather than when the token expires.
"""

import functools
import uuid
from datetime import UTC, datetime

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from api.errors import SessionEnded, TerminalKeyInvalid, TokenInvalid
from core import clock
from guardians import queries, sessions
from guardians.models import AuthSession, User
from wallet.models import Terminal
from wallet.terminal_keys import terminal_for_key

TERMINAL_KEY_HEADER = "X-Terminal-Key"


class TerminalPrincipal:
    """Stands in for request.user when a terminal calls; it is not a person."""

    is_authenticated = True
    is_anonymous = False
    is_terminal = True

    def __init__(self, terminal: Terminal):
        self.terminal = terminal
        self.pk = None

    def __str__(self):
        return f"terminal:{self.terminal.pk}"


def _token_pair(user: User, session: AuthSession) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh["jti"] = session.current_refresh_jti
    refresh["sid"] = str(session.pk)
    access = AccessToken.for_user(user)
    access["sid"] = str(session.pk)
    return {
        "access": str(access),
        "refresh": str(refresh),
        "access_expires_at": datetime.fromtimestamp(access["exp"], tz=UTC),
        "refresh_expires_at": datetime.fromtimestamp(refresh["exp"], tz=UTC),
        "session_id": session.pk,
    }


def _refresh_expiry() -> datetime:
    return clock.now() + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]


def tokens_for_new_session(user: User, *, user_agent: str = "") -> dict:
    session = sessions.session_start(
        user=user, refresh_jti=uuid.uuid4().hex, expires_at=_refresh_expiry(), user_agent=user_agent
    )
    return _token_pair(user, session)


def tokens_rotate(raw_refresh: str) -> dict:
    """Exchange a refresh token for a new pair; the old refresh token dies with the exchange."""
    refresh = _decode_refresh(raw_refresh)
    session = sessions.session_rotate(
        session_id=refresh["sid"], presented_jti=refresh["jti"], new_jti=uuid.uuid4().hex, expires_at=_refresh_expiry()
    )
    return _token_pair(session.user, session)


def session_id_from_refresh(raw_refresh: str):
    return _decode_refresh(raw_refresh)["sid"]


def _decode_refresh(raw_refresh: str) -> RefreshToken:
    try:
        refresh = RefreshToken(raw_refresh, verify=True)
    except TokenError:
        refresh = None
    if refresh is None or not _is_uuid(refresh.get("sid")) or not refresh.get("jti"):
        raise TokenInvalid("The refresh token is invalid or expired.")
    return refresh


# Verified access tokens, by their exact text. An app sends the same token with every call for up to
# 15 minutes; checking its HMAC signature (and PyJWT's key and segment checks) again each time is
# the larger part of authenticating. Only a string that verified is remembered, its expiry is checked
# on every use, and the session is still read on every request, so revocation stays immediate.
ACCESS_TOKEN_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=ACCESS_TOKEN_CACHE_SIZE)
def _verified_access_token(raw: str) -> AccessToken:
    return AccessToken(raw)  # raises TokenError (not cached) for a bad signature, type or expiry


def access_token_verify(raw: str) -> AccessToken:
    token = _verified_access_token(raw)
    token.check_exp(current_time=aware_utcnow())  # a remembered token still expires on time
    return token


def _session_with_user(session_id) -> AuthSession | None:
    """The one indexed probe (primary key) of every signed-in request: the session, its user and roles."""
    return queries.session_with_user(session_id)


class JWTSessionAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise TokenInvalid("Malformed Authorization header.")
        try:
            token = access_token_verify(header[1].decode("ascii", errors="replace"))
        except TokenError:
            raise TokenInvalid("The access token is invalid or expired.") from None
        session = _session_with_user(token.get("sid")) if _is_uuid(token.get("sid")) else None
        if session is None or str(session.user_id) != str(token.get("user_id")) or not sessions.session_is_active(session):
            raise SessionEnded()
        request.auth_session = session
        return session.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class TerminalKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw_key = request.headers.get(TERMINAL_KEY_HEADER)
        if raw_key is None:
            return None
        terminal = terminal_for_key(raw_key.strip())
        if terminal is None:
            raise TerminalKeyInvalid()
        request._request.auth_terminal = terminal
        request.auth_terminal = terminal
        return TerminalPrincipal(terminal), terminal


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class JWTSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.JWTSessionAuthentication"
    name = "bearerAuth"

    def get_security_requirement(self, auto_schema):
        from openapi.security import PERSON, security_requirement  # schema generation only

        return security_requirement(auto_schema, PERSON)

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/token (15 minutes; refresh with /auth/token/refresh).",
        }


class TerminalKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.TerminalKeyAuthentication"
    name = "terminalKey"

    def get_security_requirement(self, auto_schema):
        from openapi.security import TERMINAL, security_requirement  # schema generation only

        return security_requirement(auto_schema, TERMINAL)

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": TERMINAL_KEY_HEADER,
            "description": "A merchant terminal's API key (`tbx_term_...`), shown once when the terminal is created.",
        }
