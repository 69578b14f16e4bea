"""Which authentication schemes each operation accepts, decided by the view's own permission classes.

A view authenticates with JWTSessionAuthentication (a person) and TerminalKeyAuthentication (a
terminal), but its permissions usually admit only one of them. Rather than keep a second list in
step with the permissions, the schema asks them: each permission is run against three stand-in
callers, an anonymous one, a terminal, and a person who holds every role (guardian, staff with
every role, program administrator, merchant administrator, platform staff). A scheme is published when its caller passes
every permission of the view; an operation that lets anonymous callers in is public
(`security: []`). tests/integration/test_operation_security.py checks the result by calling every
operation with each real credential.
"""

from types import SimpleNamespace

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.auth import JWTSessionAuthentication, TerminalKeyAuthentication, TerminalPrincipal

PERSON, TERMINAL = "person", "terminal"
SCHEME_OF_KIND = {PERSON: "bearerAuth", TERMINAL: "terminalKey"}
AUTHENTICATOR_OF_KIND = {PERSON: JWTSessionAuthentication, TERMINAL: TerminalKeyAuthentication}


class _EveryRole(SimpleNamespace):
    def has_role(self, *roles) -> bool:
        return True


def _person_with_every_role():
    staff = _EveryRole(pk=0, school_id=0, roles=[])
    return SimpleNamespace(
        pk=0, id=0, is_authenticated=True, is_anonymous=False, is_terminal=False, is_active=True, is_staff=True,
        is_superuser=True, guardian=SimpleNamespace(pk=0, id=0), staff=staff, program_admin=SimpleNamespace(pk=0, id=0),
        merchant_admin=SimpleNamespace(pk=0, id=0, merchant_id=0),
    )


STAND_INS = {PERSON: _person_with_every_role, TERMINAL: lambda: TerminalPrincipal(terminal=SimpleNamespace(pk=0, merchant_id=0))}


def _admits(view, method: str, user) -> bool:
    request = Request(APIRequestFactory().generic(method, "/"))
    request.user = user
    try:
        return all(permission.has_permission(request, view) for permission in view.get_permissions())
    except Exception:  # noqa: BLE001 - a permission that needs more than a stand-in: publish it, the test calls it for real
        return user is not None


def accepted_kinds(view, method: str) -> set[str] | None:
    """The kinds of caller the operation accepts; None when it is public."""
    if _admits(view, method, None):
        return None
    authenticators = tuple(type(a) for a in view.get_authenticators())
    return {
        kind
        for kind, make in STAND_INS.items()
        if issubclass_any(authenticators, AUTHENTICATOR_OF_KIND[kind]) and _admits(view, method, make())
    }


def issubclass_any(classes: tuple, base: type) -> bool:
    return any(issubclass(cls, base) for cls in classes)


def security_requirement(auto_schema, kind: str) -> list[dict]:
    """For an OpenApiAuthenticationExtension: its scheme, only where the operation accepts its kind."""
    kinds = accepted_kinds(auto_schema.view, auto_schema.method)
    return [{SCHEME_OF_KIND[kind]: []}] if kinds and kind in kinds else []


def publish_public_operations(result, generator, request, public):
    """A postprocessing hook: an operation without a scheme says so with `security: []`."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if isinstance(operation, dict) and method in {"get", "post", "put", "patch", "delete"}:
                operation["security"] = [r for r in operation.get("security", []) if r]
    return result
