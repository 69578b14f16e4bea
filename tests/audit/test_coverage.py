"""No staff or administrator write goes unrecorded.

Every unsafe operation in the committed OpenAPI document is called as each kind of staff and
administrator principal, with its handler replaced by one that changes nothing and answers 200:
the real authentication and permission checks still run. Whichever principal the operation
admits, the request leaves an audit row naming them; whichever it refuses, it leaves none. A new
endpoint is covered the day it is added to the schema, with no list here to keep in step.
"""

from pathlib import Path

import pytest
import yaml
from django.urls import resolve
from rest_framework.response import Response

from audit.models import AuditEntry
from tests.factories import ProgramAdministratorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml").read_text())
UNSAFE = ("post", "put", "patch", "delete")
OPERATIONS = sorted(
    (operation["operationId"], method, path)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in UNSAFE
)
PRINCIPALS = {
    "school_staff": lambda: StaffFactory(roles=["admin", "canteen", "teacher", "finance"]).user,
    "program_admin": lambda: ProgramAdministratorFactory().user,
    "platform_staff": lambda: UserFactory(is_staff=True),
}
# Staff and administrators reach at least these (the test below proves every admitted one records).
KNOWN_STAFF_OPERATIONS = {
    "card_issue",
    "canteen_order_refund",
    "canteen_settings_update",
    "menu_item_update",
    "event_cancel",
    "voucher_provider_suspend",
    "voucher_revoke",
    "webhook_subscription_rotate_secret",
    "link_code_issue",
    "reconciliation_run_create",
}


def concrete(path: str) -> str:
    """`/students/{student_id}/cards` -> `/students/1/cards`; the string parameter (a link token) gets a word."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{"):
            part = "sometoken" if part == "{token}" else "1"
        parts.append(part)
    return "/".join(parts)


def view_of(path: str):
    return resolve(concrete(path)).func.cls


def call_stubbed(client, monkeypatch, method: str, path: str):
    monkeypatch.setattr(view_of(path), method, lambda self, request, *args, **kwargs: Response({"stubbed": True}))
    return getattr(client, method)(concrete(path), {}, format="json", HTTP_IDEMPOTENCY_KEY="audit-coverage")


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_every_unsafe_operation_records_each_staff_or_administrator_it_admits(operation_id, method, path, client_for, monkeypatch):
    # Sign-in, registration, signed e-mail links and inbound webhooks authenticate no one: there is
    # no staff principal to record, whatever credentials the caller also sent.
    public = view_of(path).authentication_classes == []
    admitted = []
    for kind, make in PRINCIPALS.items():
        user = make()
        answer = call_stubbed(client_for(user), monkeypatch, method, path)
        rows = list(AuditEntry.objects.filter(actor_user_id=user.pk))
        if answer.status_code == 200 and public:
            assert rows == [], kind
        elif answer.status_code == 200:
            admitted.append(kind)
            assert [(row.actor_kind, row.capture) for row in rows] == [(kind, "request")], (kind, answer.status_code)
            assert rows[0].action.startswith(f"{method} "), rows[0].action
        else:
            assert answer.status_code in (401, 403), (kind, answer.status_code, answer.content[:300])
            assert rows == [], kind
    if operation_id in KNOWN_STAFF_OPERATIONS:
        assert admitted, f"{operation_id} admits no staff or administrator principal"


def test_the_schema_lists_the_known_staff_operations():
    assert KNOWN_STAFF_OPERATIONS <= {operation_id for operation_id, _, _ in OPERATIONS}
    assert len(OPERATIONS) >= 70
