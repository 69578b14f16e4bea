"""Every operation of openapi/openapi.yaml, called as every kind of caller of two tenants, with
tenant A's objects in the path, query and body; the answers must be those access.py declares.

- a caller whose kind may not use the operation: 401 when anonymous, 403 otherwise;
- an allowed caller of another tenant (or one the object does not belong to): 404 for an object
  in the path, a 4xx for one in the body or query;
- an allowed caller reading their own tenant's object: a 2xx; any other allowed call is answered
  past the door (whatever the operation itself decides, but not the door's 401 or 403);
- never a 5xx, and never a byte of tenant A's private data to tenant B or to the anonymous.
"""

import json
import uuid

from django.test import Client

from tests.security.access import ACCESS, ANONYMOUS, BODY, OWN, PUBLIC
from tests.security.calls import Operation, operations, owners, request_for
from tests.security.world import WorldTestCase

OPERATIONS = operations()

# What the door says when it turns a caller away (api/permissions.py, DRF's authentication).
DOOR_CODES = {"not_authenticated", "permission_denied", "authentication_failed", "token_invalid", "session_revoked"}


def test_every_operation_declares_who_may_call_it():
    in_schema = {op.operation_id for op in OPERATIONS}
    assert sorted(in_schema - ACCESS.keys()) == [], "declare these operations in tests/security/access.py"
    assert sorted(ACCESS.keys() - in_schema) == [], "these declarations name no operation of the schema"


def expected(op: Operation, principal) -> str:
    """What `principal` must get: '401', '403', '404', '4xx', '2xx' or 'past_door'."""
    rule = ACCESS[op.operation_id]
    if principal.kind not in rule.allowed:
        return "401" if principal.kind == ANONYMOUS else "403"
    if rule.tenant == PUBLIC:
        return "past_door"
    own = principal.tenant == "a"
    if rule.tenant == OWN:
        own = own and principal.kind in (owners(op) or ())
        if not own:
            return "404"
    if rule.tenant == BODY and not own:
        return "4xx"
    return "2xx" if op.method == "get" and own else "past_door"


def _code(body: bytes) -> str | None:
    try:
        return json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None


def meets(status: int, body: bytes, expectation: str, *, public: bool) -> bool:
    if status >= 500:
        return False
    if expectation == "past_door":
        # A public operation may refuse the credentials it is sent (sign-in's 401 invalid_credentials).
        turned_away = status in (401, 403) and _code(body) in DOOR_CODES and not (public and status == 401)
        return not turned_away
    if expectation == "2xx":
        return 200 <= status < 300
    if expectation == "4xx":
        return 400 <= status < 500
    return status == int(expectation)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _leaks(world, op: Operation, principal, body: bytes, content_type: str) -> bool:
    """Tenant A's private strings in an answer to a caller of tenant B or to the anonymous. A path
    that carries tenant A's credential (a signed event link) is tenant A's guardian speaking."""
    if principal.tenant == "a" or (op.path_params and owners(op) is None):
        return False
    if content_type.startswith(("image/", "application/pdf")):
        return False
    text = body.decode("utf-8", errors="replace")
    return any(marker in text for marker in world.a.markers)


class AuthorizationMatrix(WorldTestCase):
    requests_sent = 0

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        print(f"\nauthorization matrix: {cls.requests_sent} requests sent")  # shown with -s

    def check(self, op: Operation):
        self.assertIn(op.operation_id, ACCESS, "declare the operation in tests/security/access.py")
        public = ACCESS[op.operation_id].tenant == PUBLIC
        client = Client(raise_request_exception=False)
        # Strangers go first, so they meet tenant A's objects as built; the owners' writes come last.
        callers = sorted(self.world.principals, key=lambda p: p.tenant == "a")
        wrong = []
        for principal in callers:
            want = expected(op, principal)
            response = client.generic(**request_for(op, self.world.a), **principal.headers)
            AuthorizationMatrix.requests_sent += 1
            body = body_of(response)
            if not meets(response.status_code, body, want, public=public):
                wrong.append(f"{principal.name}: expected {want}, got {response.status_code} {body[:300]!r}")
            elif _leaks(self.world, op, principal, body, response.get("Content-Type", "")):
                wrong.append(f"{principal.name}: {response.status_code} shows tenant A's data: {body[:300]!r}")
        self.assertEqual(wrong, [], f"{op.method.upper()} {op.path}\n" + "\n".join(wrong))


def _test_for(op: Operation):
    def test(self):
        self.check(op)

    test.__name__ = f"test_{op.operation_id}"
    return test


for _op in OPERATIONS:
    setattr(AuthorizationMatrix, f"test_{_op.operation_id}", _test_for(_op))


class SignedEventLinks(WorldTestCase):
    """An event link is the credential of the guardian it was mailed to: with tenant B's link, tenant
    A's sign-up might as well not exist."""

    def test_a_link_reaches_only_the_sign_ups_of_its_own_guardian(self):
        a, b = self.world.a, self.world.b
        client = Client(raise_request_exception=False)
        for action in ("pay", "card-payment"):
            with self.subTest(action=action):
                response = client.post(
                    f"/api/v1/event-links/{b.event_token}/signups/{a.signup.pk}/{action}", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
                )
                self.assertEqual((response.status_code, response.json()["code"]), (404, "not_found"))
