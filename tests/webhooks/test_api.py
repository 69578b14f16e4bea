"""Managing subscriptions through the API: who may, which ones they reach, secrets shown once."""

import uuid

import pytest
from rest_framework.test import APIClient

from core.models_webhooks import WebhookDelivery, WebhookSubscription
from core.webhooks.event_types import EVENT_TYPES
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
)
from tests.helpers import assert_problem
from tests.vouchers.factories import make_program
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db
API = "/api/v1/webhooks"


@pytest.fixture
def school():
    return SchoolFactory()


@pytest.fixture
def admin(school, client_for):
    return client_for(StaffFactory(school=school, roles=["admin"]).user)


def create(client, url, event_types=("card.charged",), **fields):
    return client.post(f"{API}/subscriptions", {"url": url, "event_types": list(event_types), **fields}, format="json")


def test_event_types_are_public(api_client):
    response = api_client.get(f"{API}/event-types")
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == list(EVENT_TYPES)
    charged = next(item for item in response.json() if item["name"] == "card.charged")
    assert charged["scope"] == "school" and charged["example"]["amount"] == 350
    assert_problem(api_client.get(f"{API}/event-types", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_a_school_admin_subscribes_and_sees_the_secret_only_once(admin, school, receiver):
    response = create(admin, receiver.url, ["card.charged", "canteen.order_placed"], description="SIS")
    assert response.status_code == 201, response.content
    body = response.json()
    subscription = WebhookSubscription.objects.get()
    assert body == {
        "id": subscription.pk,
        "url": receiver.url,
        "description": "SIS",
        "event_types": ["canteen.order_placed", "card.charged"],
        "scope": "school",
        "school_id": school.pk,
        "program_id": None,
        "is_active": True,
        "disabled_at": None,
        "disabled_reason": "",
        "previous_secret_expires_at": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "secret": subscription.secret,
    }
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert "secret" not in admin.get(f"{API}/subscriptions/{subscription.pk}").json()
    assert "secret" not in admin.get(f"{API}/subscriptions").json()["results"][0]


def test_create_honours_an_idempotency_key(admin, receiver):
    key = uuid.uuid4().hex
    first = admin.post(f"{API}/subscriptions", {"url": receiver.url, "event_types": ["card.charged"]}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = admin.post(f"{API}/subscriptions", {"url": receiver.url, "event_types": ["card.charged"]}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"url": "ftp://example.com/x"}, 422, "webhook_url_invalid"),
        ({"url": "not a url"}, 400, "validation_error"),
        ({"url": "https://user:pw@example.com/x"}, 422, "webhook_url_invalid"),
        ({"event_types": ["voucher.redeemed"]}, 422, "webhook_event_type_out_of_scope"),
        ({"event_types": ["card.swiped"]}, 400, "validation_error"),
        ({"event_types": []}, 400, "validation_error"),
    ],
)
def test_create_refuses_bad_urls_and_types(admin, fields, status, code):
    body = {"url": "https://hooks.example.com/tuckbox", "event_types": ["card.charged"], **fields}
    assert_problem(admin.post(f"{API}/subscriptions", body, format="json"), status, code)


def test_production_refuses_private_and_plain_http_targets(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    assert_problem(create(admin, "http://hooks.example.com/x"), 422, "webhook_url_not_allowed")
    for private in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x", "https://169.254.169.254/latest", "https://localhost/x"):
        assert_problem(create(admin, private), 422, "webhook_url_not_allowed")
    assert WebhookSubscription.objects.count() == 0


def test_a_tenant_has_a_limit(admin, settings, receiver):
    settings.WEBHOOKS_MAX_SUBSCRIPTIONS_PER_TENANT = 2
    assert create(admin, receiver.url).status_code == 201
    assert create(admin, receiver.url).status_code == 201
    assert_problem(create(admin, receiver.url), 409, "webhook_subscription_limit")


def test_who_may_manage_webhooks(school, client_for, terminal_client, receiver):
    subscription = subscribe(receiver.url, ["card.charged"], school=school)
    detail = f"{API}/subscriptions/{subscription.pk}"
    callers = {
        "anonymous": (APIClient(), 401, "not_authenticated"),
        "terminal": (terminal_client(MerchantFactory(school=school)), 403, "permission_denied"),
        "guardian": (client_for(GuardianLinkFactory(student__school=school).guardian.user), 403, "permission_denied"),
        "teacher": (client_for(StaffFactory(school=school, roles=["teacher"]).user), 403, "permission_denied"),
        "canteen": (client_for(StaffFactory(school=school, roles=["canteen", "finance"]).user), 403, "permission_denied"),
        "other_admin": (client_for(StaffFactory(roles=["admin"]).user), 404, "not_found"),
        "program_admin": (client_for(ProgramAdministratorFactory().user), 404, "not_found"),
    }
    for name, (client, status, code) in callers.items():
        for method, path, body in (
            ("get", detail, None),
            ("patch", detail, {"description": "mine now"}),
            ("delete", detail, None),
            ("post", f"{detail}/rotate-secret", {}),
            ("post", f"{detail}/ping", None),
            ("get", f"{detail}/deliveries", None),
        ):
            response = getattr(client, method)(path, body, format="json")
            assert response.status_code == status, (name, method, path, response.content)
            assert_problem(response, status, code)
        if status == 404:
            assert client.get(f"{API}/subscriptions").json()["results"] == [], name
    subscription.refresh_from_db()
    assert subscription.description == "" and subscription.is_active


def test_a_program_administrator_subscribes_to_their_programs_events(client_for, receiver):
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)  # its creator administers it
    other_program = make_program()
    client = client_for(admin.user)

    assert_problem(create(client, receiver.url, ["voucher.redeemed"], program_id=other_program.pk), 404, "not_found")
    assert_problem(create(client, receiver.url, ["voucher.redeemed"]), 400, "validation_error")  # which program?
    assert_problem(create(client, receiver.url, ["card.charged"], program_id=program.pk), 422, "webhook_event_type_out_of_scope")
    response = create(client, receiver.url, ["voucher.redeemed", "voucher.settlement_paid"], program_id=program.pk)
    assert response.status_code == 201, response.content
    assert (response.json()["scope"], response.json()["program_id"], response.json()["school_id"]) == ("program", program.pk, None)

    co_admin = ProgramAdministratorFactory()
    program.administrators.add(co_admin)
    assert [s["id"] for s in client_for(co_admin.user).get(f"{API}/subscriptions").json()["results"]] == [response.json()["id"]]
    school_admin = client_for(StaffFactory(roles=["admin"]).user)
    assert_problem(school_admin.get(f"{API}/subscriptions/{response.json()['id']}"), 404, "not_found")


def test_update_pause_and_resume(admin, school, receiver):
    subscription = subscribe(receiver.url, ["card.charged"], school=school)
    WebhookDelivery.objects.create(event=_event(school), subscription=subscription, next_attempt_at=subscription.created_at)

    paused = admin.patch(f"{API}/subscriptions/{subscription.pk}", {"is_active": False, "event_types": ["card.charged", "canteen.orders_cut_off"]}, format="json")
    assert paused.status_code == 200, paused.content
    assert (paused.json()["is_active"], paused.json()["disabled_reason"]) == (False, "by_user")
    assert paused.json()["event_types"] == ["canteen.orders_cut_off", "card.charged"]
    assert WebhookDelivery.objects.get().status == "cancelled"
    assert_problem(admin.post(f"{API}/subscriptions/{subscription.pk}/ping"), 409, "webhook_subscription_disabled")

    resumed = admin.patch(f"{API}/subscriptions/{subscription.pk}", {"is_active": True}, format="json")
    assert (resumed.json()["is_active"], resumed.json()["disabled_reason"], resumed.json()["disabled_at"]) == (True, "", None)


def test_rotation_returns_the_new_secret_once_and_keeps_the_old_for_the_grace_period(admin, school, receiver):
    subscription = subscribe(receiver.url, ["card.charged"], school=school)
    response = admin.post(f"{API}/subscriptions/{subscription.pk}/rotate-secret", {"grace_period_hours": 2}, format="json")
    assert response.status_code == 200, response.content
    rotated = WebhookSubscription.objects.get()
    assert response.json()["secret"] == rotated.secret != subscription.secret
    assert rotated.previous_secret == subscription.secret
    assert response.json()["previous_secret_expires_at"] is not None
    assert rotated.signing_secrets() == [rotated.secret, subscription.secret]

    at_once = admin.post(f"{API}/subscriptions/{subscription.pk}/rotate-secret", {"grace_period_hours": 0}, format="json")
    assert at_once.json()["previous_secret_expires_at"] is None
    assert WebhookSubscription.objects.get().signing_secrets() == [at_once.json()["secret"]]
    assert_problem(admin.post(f"{API}/subscriptions/{subscription.pk}/rotate-secret", {"grace_period_hours": 169}, format="json"), 400, "validation_error")


def test_ping_is_delivered_and_the_deliveries_show_their_attempts(admin, school, receiver, verify_recipe, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["card.charged"], school=school)
    receiver.answer((500, b"oops"))
    with django_capture_on_commit_callbacks(execute=True):  # the attempt is made after commit, by a worker
        response = admin.post(f"{API}/subscriptions/{subscription.pk}/ping")
    assert response.status_code == 202, response.content
    delivery = response.json()["delivery"]
    assert (delivery["event_type"], delivery["status"], delivery["attempts"], delivery["response_status"]) == ("webhook.ping", "pending", 0, None)
    assert delivery["event_data"] == {"message": "Hello from Tuckbox", "subscription_id": subscription.pk}
    [ping] = receiver.received
    assert ping.headers["Tuckbox-Event-Type"] == "webhook.ping"
    assert verify_recipe(ping.headers, ping.body, subscription.secret)

    listed = admin.get(f"{API}/subscriptions/{subscription.pk}/deliveries").json()["results"]
    assert [(d["id"], d["status"]) for d in listed] == [(delivery["id"], "pending")]
    [attempt] = listed[0]["attempt_log"]
    assert (attempt["number"], attempt["response_status"], attempt["response_body_excerpt"], attempt["error"]) == (1, 500, "oops", "")


def test_delete(admin, school, receiver):
    subscription = subscribe(receiver.url, ["card.charged"], school=school)
    response = admin.delete(f"{API}/subscriptions/{subscription.pk}")
    assert response.status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert_problem(admin.delete(f"{API}/subscriptions/{subscription.pk}"), 404, "not_found")


def _event(school):
    from core.models_webhooks import WebhookEvent

    return WebhookEvent.objects.create(type="card.charged", school_id=school.pk, data={"charge_id": 1})
