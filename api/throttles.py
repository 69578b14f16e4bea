"""Throttles for endpoints that can be used to guess secrets.

They count in the shared cache (Redis). When Redis is down or hung they fail open: the request is
let through after at most the Redis socket timeout, and `throttle_cache_unavailable` is logged.
Refusing instead would lock every family out of signing in for the length of an outage. What
still bounds a guesser meanwhile: sign-in and password change cost a password hash per attempt,
link codes are long random secrets that expire (LINK_CODE_TTL), and /healthz reports Redis
degraded, so the outage is short and visible. See docs/operations.md ("When Redis is down").
"""

import structlog
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

log = structlog.get_logger("api.throttles")
# What the Redis cache raises when Redis refuses, drops or does not answer in time.
CACHE_ERRORS = (RedisError,)


class FailOpenRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            log.error("throttle_cache_unavailable", scope=self.scope, error=exc.__class__.__name__)
            return True


class SignInIpThrottle(FailOpenRateThrottle):
    scope = "sign_in_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInEmailThrottle(SimpleRateThrottle):
    """Per account, so an attacker spreading over many addresses still cannot hammer one password."""

    scope = "sign_in_email"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email:
            return None
        return self.cache_format % {"scope": self.scope, "ident": email.strip().lower()[:254]}


class LinkCodeThrottle(FailOpenRateThrottle):
    scope = "link_code"

    def get_cache_key(self, request, view):
        ident = request.user.pk if getattr(request.user, "pk", None) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegistrationIpThrottle(SignInIpThrottle):
    """Account creation has its own budget, so sign-ups and sign-ins from one school's NAT don't starve each other."""

    scope = "register_ip"


class PasswordChangeThrottle(SimpleRateThrottle):
    """Per user: a stolen access token must not become a password-guessing oracle."""

    scope = "password_change"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
