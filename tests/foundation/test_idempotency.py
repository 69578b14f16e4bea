"""Idempotency-Key on POSTs: replay, refusal of a reused key, in-progress leases, scoping, purge, races.

Exercised through POST /students/{id}/link-codes (staff) and /students/{id}/invites
(guardians), which honour an optional key.
"""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings

from api.idempotency import caller_scope, request_fingerprint
from api.models import IdempotencyRecord
from api.tasks import purge_expired_idempotency_keys
from core import clock
from guardians.models import LinkCode
from tests.concurrency import run_concurrently
from tests.factories import GuardianLinkFactory, StaffFactory, StudentFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return StaffFactory(roles=["admin"])


@pytest.fixture
def student(admin):
    return StudentFactory(school=admin.school)


def link_codes_url(student) -> str:
    return f"/api/v1/students/{student.pk}/link-codes"


def issue(client, student, key: str | None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(link_codes_url(student), **headers)


def new_key() -> str:
    return str(uuid.uuid4())


def unfinished_record(*, user, key: str, path: str, body: bytes = b"") -> IdempotencyRecord:
    """A claim whose request has not answered yet (or died before it could)."""
    request = SimpleNamespace(method="POST", path=path, body=body)
    return IdempotencyRecord.objects.create(
        caller=caller_scope(SimpleNamespace(user=user)),
        key=key,
        request_fingerprint=request_fingerprint(request),
        method="POST",
        path=path,
        expires_at=clock.now() + settings.IDEMPOTENCY_KEY_TTL,
    )


# --- Replay and refusal ---------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_response_byte_for_byte(client_for, admin, student):
    client, key = client_for(admin.user), new_key()

    first = issue(client, student, key)
    second = issue(client, student, key)

    assert first.status_code == 201 and second.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert LinkCode.objects.filter(student=student).count() == 1
    record = IdempotencyRecord.objects.get(key=key)
    assert record.status_code == 201 and bytes(record.response_body) == first.content


def test_without_a_key_every_post_executes(client_for, admin, student):
    client = client_for(admin.user)

    assert issue(client, student, None).content != issue(client, student, None).content

    assert LinkCode.objects.filter(student=student).count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_with_a_different_body_is_422(client_for, student):
    guardian = GuardianLinkFactory(student=student).guardian
    client, key, url = client_for(guardian.user), new_key(), f"/api/v1/students/{student.pk}/invites"

    first = client.post(url, {"grants_money": True}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    reused = client.post(url, {"grants_money": False}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201
    assert_problem(reused, 422, "idempotency_key_reused")
    assert LinkCode.objects.filter(student=student).count() == 1


def test_the_body_is_compared_as_json_not_as_bytes(client_for, student):
    guardian = GuardianLinkFactory(student=student).guardian
    client, key, url = client_for(guardian.user), new_key(), f"/api/v1/students/{student.pk}/invites"

    first = client.post(url, '{"grants_money": false, "grants_consent": true}', content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=key)
    reordered = client.post(url, '{ "grants_consent":true,"grants_money":false }', content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201
    assert reordered["Idempotent-Replayed"] == "true" and reordered.content == first.content
    assert LinkCode.objects.filter(student=student).count() == 1


def test_a_refusal_is_stored_and_replayed_too(client_for, admin):
    other_schools_student = StudentFactory()
    client, key = client_for(admin.user), new_key()

    first = issue(client, other_schools_student, key)
    second = issue(client, other_schools_student, key)

    assert_problem(first, 404, "not_found")
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"
    assert second["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("key", ["k" * 256, "x" * 300, "has space", "ключ", ""], ids=["256", "300", "space", "non-ascii", "empty"])
def test_an_invalid_key_is_400(client_for, admin, student, key):
    response = issue(client_for(admin.user), student, key)

    assert_problem(response, 400, "idempotency_key_invalid")
    assert not LinkCode.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_key_of_255_characters_is_accepted(client_for, admin, student):
    assert issue(client_for(admin.user), student, "k" * 255).status_code == 201


# --- In progress, leases and crashes --------------------------------------------------


def test_a_retry_while_the_first_request_runs_is_409_with_retry_after(client_for, admin, student):
    key = new_key()
    unfinished_record(user=admin.user, key=key, path=link_codes_url(student))

    response = issue(client_for(admin.user), student, key)

    assert_problem(response, 409, "idempotency_request_in_progress")
    assert response["Retry-After"] == "1"
    assert not LinkCode.objects.exists()


def test_after_the_lease_a_retry_takes_over_the_dead_request(client_for, admin, student):
    key = new_key()
    unfinished_record(user=admin.user, key=key, path=link_codes_url(student))

    with time_machine.travel(settings.IDEMPOTENCY_LEASE - timedelta(seconds=1)):
        assert issue(client_for(admin.user), student, key).status_code == 409
    with time_machine.travel(settings.IDEMPOTENCY_LEASE + timedelta(seconds=1)):
        client = client_for(admin.user)
        taken_over = issue(client, student, key)
        replayed = issue(client, student, key)

    assert taken_over.status_code == 201 and "Idempotent-Replayed" not in taken_over
    assert replayed.content == taken_over.content
    assert LinkCode.objects.filter(student=student).count() == 1
    assert IdempotencyRecord.objects.get(key=key).status_code == 201


def test_a_crash_releases_the_key_so_the_client_can_retry(client_for, admin, student, monkeypatch):
    client, key = client_for(admin.user), new_key()

    def crash(**_kwargs):
        raise RuntimeError("database fell over")

    with monkeypatch.context() as patch:
        patch.setattr("guardians.services.link_code_issue", crash)
        assert_problem(issue(client, student, key), 500, "internal_error")
    assert not IdempotencyRecord.objects.exists()

    retried = issue(client, student, key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert LinkCode.objects.filter(student=student).count() == 1


# --- Scope ----------------------------------------------------------------------------


def test_keys_are_scoped_per_caller(client_for, admin, student):
    colleague = StaffFactory(school=admin.school, roles=["teacher"])
    key = new_key()

    mine = issue(client_for(admin.user), student, key)
    theirs = issue(client_for(colleague.user), student, key)

    assert mine.status_code == 201 and theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["code"] != theirs.json()["code"]
    assert LinkCode.objects.filter(student=student).count() == 2
    assert IdempotencyRecord.objects.filter(key=key).count() == 2


# --- Purge ------------------------------------------------------------------------------


def test_the_purge_task_deletes_only_expired_records(admin, student):
    path = link_codes_url(student)
    expired = unfinished_record(user=admin.user, key="expired", path=path)
    due_now = unfinished_record(user=admin.user, key="due-now", path=path)
    alive = unfinished_record(user=admin.user, key="alive", path=path)
    now = clock.now()
    IdempotencyRecord.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(hours=1))
    IdempotencyRecord.objects.filter(pk=due_now.pk).update(expires_at=now)
    IdempotencyRecord.objects.filter(pk=alive.pk).update(expires_at=now + timedelta(seconds=5))

    with time_machine.travel(now, tick=False):
        deleted = purge_expired_idempotency_keys()

    assert deleted == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["alive"]


# --- Races -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_requests_with_one_key_execute_once(client_for, admin, student):
    key = new_key()
    # One session per thread: a client is not shared between threads.
    clients = [client_for(admin.user) for _ in range(20)]

    responses = run_concurrently(lambda index: issue(clients[index], student, key), 20)

    created = [r for r in responses if r.status_code == 201]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_progress) == 20, sorted(r.status_code for r in responses)
    assert created, "nobody got the answer"
    assert len({r.content for r in created}) == 1
    assert sum("Idempotent-Replayed" not in r for r in created) == 1  # exactly one ran the operation
    for response in in_progress:
        assert_problem(response, 409, "idempotency_request_in_progress")
    assert LinkCode.objects.filter(student=student).count() == 1
    assert IdempotencyRecord.objects.get(key=key).status_code == 201


def test_an_expired_key_is_free_again_before_the_purge(client_for):
    staff = StaffFactory(roles=["admin"])
    student = StudentFactory(school=staff.school)
    url = f"/api/v1/students/{student.pk}/link-codes"
    first = client_for(staff.user).post(url, HTTP_IDEMPOTENCY_KEY="reuse-after-a-day")
    with time_machine.travel(clock.now() + settings.IDEMPOTENCY_KEY_TTL + timedelta(minutes=1)):
        second = client_for(staff.user).post(url, HTTP_IDEMPOTENCY_KEY="reuse-after-a-day")

    assert first.status_code == second.status_code == 201
    assert first.json()["code"] != second.json()["code"]
    assert LinkCode.objects.filter(student=student).count() == 2
    assert IdempotencyRecord.objects.filter(key="reuse-after-a-day").count() == 1
