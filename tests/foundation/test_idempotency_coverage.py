"""Every POST in the schema either honours Idempotency-Key or is exempt with a reason (api/idempotency_exempt.py).

The audit reads openapi/openapi.yaml and the URL conf; the replays drive the operations that took no key
before and count what a second request would have made twice.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
import yaml
from django.conf import settings as django_settings
from django.urls import resolve

from api.idempotency import HEADER
from api.idempotency_exempt import EXEMPT_POSTS
from canteen.models import MenuItem, Order
from core.models import Notification
from core.models_webhooks import WebhookDelivery, WebhookSubscription
from events.models import Announcement, Event, Signup
from guardians.models import AbsenceNote
from guardians.webhook_subscriptions import webhook_subscription_create
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from tests.events.conftest import FORM, event_fields, make_event
from tests.factories import (
    GuardianLinkFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
    StudentFactory,
)
from tests.vouchers.factories import make_program
from vouchers.models import Attestation, BulkIssueJob, Program
from wallet.models import LedgerTransaction, StudentCard

SCHEMA = yaml.safe_load((Path(django_settings.BASE_DIR) / "openapi" / "openapi.yaml").read_text())
POSTS = {op["operationId"]: path for path, ops in SCHEMA["paths"].items() for method, op in ops.items() if method == "post"}
COVERED = sorted(set(POSTS) - set(EXEMPT_POSTS))


def _operation(operation_id: str) -> dict:
    return SCHEMA["paths"][POSTS[operation_id]]["post"]


def _handler(operation_id: str):
    """The view method Django would run for this operation, found through the URL conf."""
    path = POSTS[operation_id]
    for name in ("{student_id}", "{order_id}", "{event_id}", "{signup_id}", "{program_id}", "{voucher_id}", "{approval_id}",
                 "{charge_id}", "{topup_id}", "{redemption_id}", "{absence_id}", "{subscription_id}", "{terminal_id}"):
        path = path.replace(name, "1")
    path = path.replace("{token}", "t")
    return resolve(path).func.view_class.post


# --- The audit ------------------------------------------------------------------------------


def test_every_exemption_names_a_post_of_the_schema():
    assert set(EXEMPT_POSTS) - set(POSTS) == set()
    assert all(reason.strip() for reason in EXEMPT_POSTS.values())


@pytest.mark.parametrize("operation_id", COVERED)
def test_a_post_that_creates_or_moves_documents_and_honours_the_key(operation_id):
    operation = _operation(operation_id)
    headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == HEADER]
    assert headers, f"{operation_id}: document {HEADER} (IDEMPOTENCY_HEADER_OPTIONAL) or exempt it in api/idempotency_exempt.py"
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    assert "idempotency_request_in_progress" in operation["responses"]["409"]["description"]
    assert getattr(_handler(operation_id), "idempotency", None) in ("required", "optional"), f"{operation_id}: decorate with @idempotent"
    assert (_handler(operation_id).idempotency == "required") == headers[0].get("required", False)


@pytest.mark.parametrize("operation_id", sorted(EXEMPT_POSTS))
def test_an_exempt_post_neither_documents_nor_claims_a_key(operation_id):
    assert not [p for p in _operation(operation_id).get("parameters", []) if p["in"] == "header" and p["name"] == HEADER]
    assert getattr(_handler(operation_id), "idempotency", None) is None


# --- Replays of the operations that took no key before -----------------------------------------


@dataclass
class Case:
    client: object
    url: str
    body: dict | None
    effect: Callable[[], object]  # what a second execution would change
    status: int


def _card_issue(client_for, settings):
    admin = StaffFactory(roles=["admin"])
    student = StudentFactory(school=admin.school)
    return Case(client_for(admin.user), f"/api/v1/students/{student.pk}/cards", {"identifier": "04A1B2C3D4E5F6"},
                lambda: StudentCard.objects.filter(student=student).count(), 201)


def _menu_item_create(client_for, settings):
    staff = StaffFactory(roles=["canteen"])
    return Case(client_for(staff.user), "/api/v1/canteen/menu-items", {"name": "Chicken wrap", "price": 650, "category": "lunch"},
                lambda: MenuItem.objects.filter(school=staff.school).count(), 201)


def _event_create(client_for, settings):
    staff = StaffFactory(roles=["teacher"])
    body = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in event_fields().items()}
    return Case(client_for(staff.user), "/api/v1/events", {**body, "consent_form": FORM},
                lambda: Event.objects.filter(school=staff.school).count(), 201)


def _announcement_post(client_for, settings):
    admin = StaffFactory(roles=["admin"])
    GuardianLinkFactory(student=StudentFactory(school=admin.school))
    body = {"audience": "school", "title": "Athletics carnival", "body": "Friday, wear house colours."}
    return Case(client_for(admin.user), "/api/v1/announcements", body,
                lambda: (Announcement.objects.count(), Notification.objects.count()), 201)


def _absence_report(client_for, settings):
    link = GuardianLinkFactory()
    body = {"first_day": "2026-12-01", "reason": "illness", "details": "Gastro."}
    return Case(client_for(link.guardian.user), f"/api/v1/students/{link.student_id}/absences", body,
                lambda: AbsenceNote.objects.filter(student=link.student).count(), 201)


def _voucher_program_create(client_for, settings):
    from api.views.vouchers_programs import PROGRAM_CREATE_EXAMPLE

    admin = ProgramAdministratorFactory()
    return Case(client_for(admin.user), "/api/v1/voucher-programs", PROGRAM_CREATE_EXAMPLE, lambda: Program.objects.count(), 201)


def _voucher_attestation_create(client_for, settings):
    admin = ProgramAdministratorFactory()
    student = StudentFactory()
    body = {"kind": "residency", "student_id": student.pk, "evidence": "Rates notice seen"}
    return Case(client_for(admin.user), "/api/v1/voucher-attestations", body, lambda: Attestation.objects.filter(student=student).count(), 201)


def _voucher_bulk_issue_create(client_for, settings):
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)
    body = {"csv": "school_code,student_number\nharbourside,HPS-0001\n"}
    return Case(client_for(admin.user), f"/api/v1/voucher-programs/{program.pk}/bulk-issues", body,
                lambda: BulkIssueJob.objects.filter(program=program).count(), 202)


def _signup_decline(client_for, settings):
    school = SchoolFactory()
    event = make_event(StaffFactory(school=school, roles=["teacher"]))
    link = GuardianLinkFactory(student=StudentFactory(school=school, year_level=4))
    return Case(client_for(link.guardian.user), f"/api/v1/events/{event.pk}/declines", {"student_id": link.student_id},
                lambda: Signup.objects.filter(event=event).count(), 201)


def _event_remind(client_for, settings):
    school = SchoolFactory()
    teacher = StaffFactory(school=school, roles=["teacher"])
    event = make_event(teacher)
    GuardianLinkFactory(student=StudentFactory(school=school, year_level=4))
    return Case(client_for(teacher.user), f"/api/v1/events/{event.pk}/reminders", None, lambda: Notification.objects.count(), 200)


def _subscription(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    admin = StaffFactory(roles=["admin"])
    subscription = webhook_subscription_create(
        url="http://127.0.0.1:9/hooks", event_types=["card.charged"], school=admin.school, created_by=admin.user
    )
    return admin, subscription


def _webhook_subscription_rotate_secret(client_for, settings):
    admin, subscription = _subscription(settings)
    return Case(client_for(admin.user), f"/api/v1/webhooks/subscriptions/{subscription.pk}/rotate-secret", {"grace_period_hours": 1},
                lambda: WebhookSubscription.objects.get(pk=subscription.pk).secret, 200)


def _webhook_subscription_ping(client_for, settings):
    admin, subscription = _subscription(settings)
    return Case(client_for(admin.user), f"/api/v1/webhooks/subscriptions/{subscription.pk}/ping", None,
                lambda: WebhookDelivery.objects.filter(subscription=subscription).count(), 202)


def _canteen_order_cancel(client_for, settings):
    canteen = make_canteen(client_for)
    placed = canteen.order([(canteen.wrap, 1)])
    assert placed.status_code == 201, placed.content
    order_id = placed.json()["id"]
    return Case(canteen.guardian_client, f"/api/v1/canteen/orders/{order_id}/cancel", None,
                lambda: (Order.objects.get(pk=order_id).status, LedgerTransaction.objects.count()), 200)


CASES = {
    "card_issue": _card_issue,
    "menu_item_create": _menu_item_create,
    "event_create": _event_create,
    "announcement_post": _announcement_post,
    "absence_report": _absence_report,
    "voucher_program_create": _voucher_program_create,
    "voucher_attestation_create": _voucher_attestation_create,
    "voucher_bulk_issue_create": _voucher_bulk_issue_create,
    "signup_decline": _signup_decline,
    "event_remind": _event_remind,
    "webhook_subscription_rotate_secret": _webhook_subscription_rotate_secret,
    "webhook_subscription_ping": _webhook_subscription_ping,
    "canteen_order_cancel": _canteen_order_cancel,
}


def _post(case: Case, key: str, body=None):
    return case.client.post(case.url, case.body if body is None else body, format="json", **{"HTTP_IDEMPOTENCY_KEY": key})


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(CASES))
def test_a_replay_answers_the_same_and_takes_effect_once(operation_id, client_for, settings):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        case = CASES[operation_id](client_for, settings)
        key, before = str(uuid.uuid4()), case.effect()

        first = _post(case, key)
        after_first = case.effect()
        replayed = _post(case, key)

    assert first.status_code == case.status, first.content
    assert after_first != before
    assert (replayed.status_code, replayed.content) == (first.status_code, first.content)
    assert replayed["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert case.effect() == after_first


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(op for op in CASES if CASES[op] is not _canteen_order_cancel and op not in ("event_remind", "webhook_subscription_ping")))
def test_the_same_key_with_another_body_is_refused_and_takes_no_effect(operation_id, client_for, settings):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        case = CASES[operation_id](client_for, settings)
        key = str(uuid.uuid4())
        assert _post(case, key).status_code == case.status
        after_first = case.effect()

        reused = _post(case, key, body={**case.body, "unexpected": "another request"})

    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert case.effect() == after_first


def test_every_operation_given_a_key_here_is_replayed_above():
    assert set(CASES) <= set(COVERED)
