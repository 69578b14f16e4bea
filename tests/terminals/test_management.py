"""A merchant administrator manages their merchant's terminals through the API."""

import pytest
import time_machine
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from audit.models import AuditEntry
from tests.factories import GuardianFactory, MerchantAdministratorFactory, MerchantFactory, SchoolFactory
from tests.helpers import assert_problem
from wallet.models import Terminal
from wallet.terminal_keys import _hash_key

TERMINALS = "/api/v1/merchant/terminals"
WHOAMI = "/api/v1/terminal"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return MerchantAdministratorFactory(merchant=MerchantFactory(name="Harbourside Canteen", school=SchoolFactory()))


@pytest.fixture
def admin_client(admin, client_for):
    return client_for(admin.user)


def with_key(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
    return client


def register(client, label="Counter 2", **headers):
    return client.post(TERMINALS, {"label": label}, format="json", **headers)


def test_registering_returns_the_key_once_and_stores_only_its_hash(admin, admin_client):
    response = register(admin_client)

    assert response.status_code == 201, response.content
    body = response.json()
    terminal = Terminal.objects.get(pk=body["id"])
    assert terminal.merchant_id == admin.merchant_id
    assert body["label"] == "Counter 2" and body["is_active"] is True and body["last_used_at"] is None
    assert body["key"].startswith(f"tbx_term_{terminal.key_prefix}_")
    assert terminal.key_hash == _hash_key(body["key"]) and body["key"] not in str(Terminal.objects.filter(pk=terminal.pk).values().get())
    assert with_key(body["key"]).get(WHOAMI).json()["terminal_id"] == terminal.pk
    assert "key" not in admin_client.get(f"{TERMINALS}/{terminal.pk}").json()


def test_a_replayed_registration_mints_no_second_terminal_and_shows_no_key(admin_client):
    first = register(admin_client, HTTP_IDEMPOTENCY_KEY="reg-1")
    again = register(admin_client, HTTP_IDEMPOTENCY_KEY="reg-1")

    assert first.status_code == 201
    body = assert_problem(again, 409, "terminal_key_already_shown")
    assert body["terminal_id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Terminal.objects.count() == 1
    stored = IdempotencyRecord.objects.get(key="reg-1")
    assert first.json()["key"].encode() not in bytes(stored.response_body)


def test_renaming_changes_the_label_and_keeps_the_key(admin_client):
    created = register(admin_client).json()

    response = admin_client.patch(f"{TERMINALS}/{created['id']}", {"label": "Window till"}, format="json")

    assert response.status_code == 200 and response.json()["label"] == "Window till"
    assert with_key(created["key"]).get(WHOAMI).json()["label"] == "Window till"


def test_the_list_shows_when_each_terminal_was_last_used_to_the_minute(admin, admin_client, terminal_client):
    used = terminal_client(admin.merchant, label="Used")
    idle = terminal_client(admin.merchant, label="Idle")
    terminal_client(MerchantFactory(), label="Another merchant's")

    with time_machine.travel("2026-11-30T01:00:05Z", tick=False):
        used.get(WHOAMI)
    with time_machine.travel("2026-11-30T01:00:50Z", tick=False):
        used.get(WHOAMI)  # within the minute: not written again
    first = Terminal.objects.get(pk=used.terminal.pk).last_used_at
    with time_machine.travel("2026-11-30T01:01:10Z", tick=False):
        used.get(WHOAMI)

    listed = {row["label"]: row["last_used_at"] for row in admin_client.get(TERMINALS).json()["results"]}
    assert first.isoformat() == "2026-11-30T01:00:05+00:00"
    assert listed == {"Used": "2026-11-30T01:01:10Z", "Idle": None}
    assert idle.terminal.pk  # listed above with no use


def test_rotating_the_key_shows_a_new_one_and_the_old_one_stops_at_once(admin_client):
    created = register(admin_client).json()

    response = admin_client.post(f"{TERMINALS}/{created['id']}/rotate-key", HTTP_IDEMPOTENCY_KEY="rot-1")

    assert response.status_code == 200, response.content
    new_key = response.json()["key"]
    assert new_key != created["key"] and response.json()["key_rotated_at"] is not None
    assert_problem(with_key(created["key"]).get(WHOAMI), 401, "terminal_key_invalid")
    assert with_key(new_key).get(WHOAMI).status_code == 200
    replay = admin_client.post(f"{TERMINALS}/{created['id']}/rotate-key", HTTP_IDEMPOTENCY_KEY="rot-1")
    assert assert_problem(replay, 409, "terminal_key_already_shown")["terminal_id"] == created["id"]
    assert with_key(new_key).get(WHOAMI).status_code == 200  # the replay rotated nothing


def test_revoking_takes_effect_at_once_and_keeps_the_terminal_as_history(admin_client):
    created = register(admin_client).json()
    terminal = with_key(created["key"])
    assert terminal.get(WHOAMI).status_code == 200

    response = admin_client.post(f"{TERMINALS}/{created['id']}/revoke")

    assert response.status_code == 200 and response.json()["is_active"] is False
    assert_problem(terminal.get(WHOAMI), 401, "terminal_key_invalid")
    assert admin_client.post(f"{TERMINALS}/{created['id']}/revoke").json()["revoked_at"] == response.json()["revoked_at"]
    assert_problem(admin_client.post(f"{TERMINALS}/{created['id']}/rotate-key"), 409, "terminal_revoked")
    assert_problem(admin_client.patch(f"{TERMINALS}/{created['id']}", {"label": "x"}, format="json"), 409, "terminal_revoked")
    assert [row["id"] for row in admin_client.get(TERMINALS).json()["results"]] == [created["id"]]


def test_every_change_is_in_the_audit_log_without_the_key(admin, admin_client):
    created = register(admin_client).json()
    admin_client.patch(f"{TERMINALS}/{created['id']}", {"label": "Window till"}, format="json")
    rotated = admin_client.post(f"{TERMINALS}/{created['id']}/rotate-key").json()
    admin_client.post(f"{TERMINALS}/{created['id']}/revoke")

    rows = list(AuditEntry.objects.filter(object_type="terminal", object_id=str(created["id"])).order_by("id"))
    assert [row.action for row in rows] == ["terminal.register", "terminal.rename", "terminal.rotate_key", "terminal.revoke"]
    assert {(row.actor_kind, row.actor_user_id, row.actor_merchant_id, row.school_id) for row in rows} == {
        ("merchant_admin", admin.user_id, admin.merchant_id, admin.merchant.school_id)
    }
    assert rows[1].before == {"label": "Counter 2"} and rows[1].after == {"label": "Window till"}
    assert rows[0].after == {"label": "Counter 2"}
    assert rows[2].before == {"key_rotated_at": None} and rows[2].after == {"key_rotated_at": rotated["key_rotated_at"].replace("Z", "+00:00")}
    stored = str(list(AuditEntry.objects.values()))
    assert created["key"] not in stored and rotated["key"] not in stored


def test_another_merchants_administrator_gets_nothing(admin_client, client_for):
    created = register(admin_client).json()
    other = client_for(MerchantAdministratorFactory().user)

    assert other.get(TERMINALS).json()["results"] == []
    for response in (
        other.get(f"{TERMINALS}/{created['id']}"),
        other.patch(f"{TERMINALS}/{created['id']}", {"label": "Mine now"}, format="json"),
        other.post(f"{TERMINALS}/{created['id']}/rotate-key"),
        other.post(f"{TERMINALS}/{created['id']}/revoke"),
    ):
        assert response.status_code == 404, response.content
    assert with_key(created["key"]).get(WHOAMI).json()["label"] == "Counter 2"


@pytest.mark.parametrize("caller", ["terminal", "guardian", "anonymous"])
def test_terminals_and_guardians_cannot_manage_terminals(caller, admin, admin_client, client_for, terminal_client):
    created = register(admin_client).json()
    client = {
        "terminal": lambda: terminal_client(admin.merchant),
        "guardian": lambda: client_for(GuardianFactory().user),
        "anonymous": APIClient,
    }[caller]()
    status = 401 if caller == "anonymous" else 403

    assert client.get(TERMINALS).status_code == status
    assert register(client).status_code == status
    assert client.post(f"{TERMINALS}/{created['id']}/rotate-key").status_code == status
    assert client.post(f"{TERMINALS}/{created['id']}/revoke").status_code == status
    assert Terminal.objects.filter(merchant=admin.merchant).count() == 2 if caller == "terminal" else 1
    assert with_key(created["key"]).get(WHOAMI).status_code == 200


def test_a_label_is_required(admin_client):
    assert_problem(admin_client.post(TERMINALS, {}, format="json"), 400, "validation_error")
