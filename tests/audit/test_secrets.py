"""No audit row holds a secret: webhook signing secrets, link codes, passwords, tokens, terminal keys."""

import pytest

from audit.models import AuditEntry
from audit.redaction import REDACTED, redacted
from audit.services import audit_record
from core.models_webhooks import WebhookSubscription
from tests.audit.conftest import only_row
from tests.factories import StaffFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_targets(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False


def everything_stored() -> str:
    return str(list(AuditEntry.objects.values()))


def test_webhook_secrets_never_reach_the_log_yet_a_rotation_shows(staff_client):
    admin = staff_client(roles=["admin"])
    created = admin.post(
        "/api/v1/webhooks/subscriptions", {"url": "http://127.0.0.1:9/hook", "event_types": ["card.charged"]}, format="json"
    )
    assert created.status_code == 201, created.content
    first_secret = created.json()["secret"]
    rotated = admin.post(f"/api/v1/webhooks/subscriptions/{created.json()['id']}/rotate-secret", {"grace_period_hours": 1}, format="json")
    assert rotated.status_code == 200, rotated.content
    subscription = WebhookSubscription.objects.get()

    creation = only_row(action="webhook_subscription.create")
    assert creation.after == {
        "url": "http://127.0.0.1:9/hook",
        "description": "",
        "event_types": ["card.charged"],
        "is_active": True,
        "disabled_reason": "",
        "secret": REDACTED,
    }
    rotation = only_row(action="webhook_subscription.rotate_secret")
    assert rotation.before == {"secret": REDACTED}
    assert rotation.after == {"secret": REDACTED, "old_one_signs_until": subscription.previous_secret_expires_at.isoformat()}
    stored = everything_stored()
    assert first_secret not in stored and subscription.secret not in stored and "whsec_" not in stored


def test_a_link_code_is_never_logged(staff_client):
    student = StudentFactory()
    teacher = staff_client(roles=["teacher"], school=student.school)
    issued = teacher.post(f"/api/v1/students/{student.pk}/link-codes", {}, format="json")

    assert issued.status_code == 201, issued.content
    row = only_row(action="link_code.issue")
    assert set(row.after) == {"student_id", "kind", "expires_at"}
    raw = issued.json()["code"]
    assert raw not in everything_stored() and raw.replace("-", "") not in everything_stored()


def test_secrets_are_redacted_by_name_and_by_shape_at_any_depth():
    staff = StaffFactory()
    row = audit_record(
        action="test.redaction",
        object_type="test",
        after={
            "password": "hunter2hunter2",
            "api_key": "plain",
            "nested": {"refresh_token": "abc", "note": "tbx_term_ab12_cafebabe", "list": ["whsec_xyz", "fine"]},
            "signature_strokes": [[1, 2], [3, 4]],
            "code_hash": "0" * 64,
            "header": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
            "price": 650,
        },
        actor=staff.user,
    )
    assert AuditEntry.objects.get(pk=row.pk).after == {
        "password": REDACTED,
        "api_key": REDACTED,
        "nested": {"refresh_token": REDACTED, "note": REDACTED, "list": [REDACTED, "fine"]},
        "signature_strokes": REDACTED,
        "code_hash": REDACTED,
        "header": REDACTED,
        "price": 650,
    }


def test_values_become_json_without_losing_what_they_say():
    from datetime import UTC, date, datetime, time
    from decimal import Decimal

    assert redacted(
        {"on": date(2026, 12, 2), "at": datetime(2026, 12, 2, 1, 0, tzinfo=UTC), "cutoff": time(8, 30), "rate": Decimal("1.50"), "days": {2, 0}}
    ) == {"on": "2026-12-02", "at": "2026-12-02T01:00:00+00:00", "cutoff": "08:30:00", "rate": "1.50", "days": [0, 2]}
