"""Throttles for endpoints that can be used to guess secrets."""

from rest_framework.throttling import SimpleRateThrottle


class SignInIpThrottle(SimpleRateThrottle):
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


class LinkCodeThrottle(SimpleRateThrottle):
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
