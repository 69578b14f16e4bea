"""Sign-in, refresh rotation, logout, password change, sign-in throttling and guardian registration."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from guardians.models import AuthSession, Guardian, User
from tests.factories import TEST_PASSWORD, GuardianFactory, UserFactory
from tests.helpers import assert_problem, field_errors

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
PASSWORD = "/api/v1/auth/password"
REGISTER = "/api/v1/guardians"
ME = "/api/v1/me"
NEW_PASSWORD = "lantern orchard seventeen"
TOKEN_PAIR_FIELDS = {"access", "refresh", "access_expires_at", "refresh_expires_at", "session_id"}

pytestmark = pytest.mark.django_db


def sign_in(email: str, password: str = TEST_PASSWORD, *, ip: str = "127.0.0.1"):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def refresh(raw_refresh: str):
    return APIClient().post(REFRESH, {"refresh": raw_refresh}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def unique_ip() -> str:
    """Throttles count per IP in a cache shared by the whole run: keep each test's traffic apart."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def assert_session_ended(access: str) -> None:
    assert_problem(bearer(access).get(ME), 401, "session_revoked")


# --- Sign in -----------------------------------------------------------------


def test_sign_in_returns_a_token_pair_for_a_new_session():
    user = GuardianFactory(user__email="olivia@example.com").user
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False):
        response = sign_in("Olivia@Example.com")  # addresses are case-insensitive

        assert response.status_code == 200
        pair = response.json()
        assert set(pair) == TOKEN_PAIR_FIELDS
        assert pair["access_expires_at"] == "2026-03-02T01:15:00Z"
        assert pair["refresh_expires_at"] == "2026-04-01T01:00:00Z"
        session = AuthSession.objects.get(pk=pair["session_id"])
        assert session.user == user and session.revoked_at is None
        me = bearer(pair["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == "olivia@example.com"


def test_wrong_password_and_unknown_email_are_the_same_401():
    user = UserFactory()

    wrong_password = assert_problem(sign_in(user.email, "not the password at all"), 401, "invalid_credentials")
    unknown_email = assert_problem(sign_in("nobody@example.com"), 401, "invalid_credentials")

    assert wrong_password == unknown_email  # nothing tells an attacker which addresses exist
    assert not AuthSession.objects.exists()


def test_inactive_user_cannot_sign_in():
    user = UserFactory(is_active=False)
    assert_problem(sign_in(user.email), 401, "invalid_credentials")


# --- Refresh -----------------------------------------------------------------


def test_refresh_rotates_the_pair_and_refuses_the_old_refresh_token():
    user = UserFactory()
    first = sign_in(user.email).json()

    response = refresh(first["refresh"])

    assert response.status_code == 200
    second = response.json()
    assert set(second) == TOKEN_PAIR_FIELDS
    assert second["session_id"] == first["session_id"]
    assert second["refresh"] != first["refresh"] and second["access"] != first["access"]
    assert bearer(second["access"]).get(ME).status_code == 200
    assert_problem(refresh(first["refresh"]), 422, "refresh_token_reused")


def test_reusing_a_refresh_token_ends_the_whole_session():
    user = UserFactory()
    first = sign_in(user.email).json()
    second = refresh(first["refresh"]).json()

    assert_problem(refresh(first["refresh"]), 422, "refresh_token_reused")

    # Thief or owner, we cannot tell: the newest refresh token and every access token die too.
    newest = refresh(second["refresh"])
    assert_problem(newest, 401, "session_revoked")
    assert newest["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_session_ended(second["access"])
    assert_session_ended(first["access"])
    session = AuthSession.objects.get(pk=first["session_id"])
    assert session.revoked_at is not None and session.revoked_reason == "refresh_reuse"


@pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"])
def test_refresh_with_a_garbage_token_is_401(token):
    assert_problem(refresh(token), 401, "token_invalid")


def test_refresh_without_a_token_is_400():
    body = assert_problem(refresh(""), 400, "validation_error")
    assert field_errors(body) == {"refresh": ["blank"]}


def test_an_access_token_is_not_a_refresh_token():
    pair = sign_in(UserFactory().email).json()
    assert_problem(refresh(pair["access"]), 401, "token_invalid")


def test_an_expired_refresh_token_is_refused():
    pair = sign_in(UserFactory().email).json()
    with time_machine.travel(timedelta(days=30, seconds=1)):
        assert_problem(refresh(pair["refresh"]), 401, "token_invalid")


# --- Logout ------------------------------------------------------------------


def test_logout_ends_access_and_refresh_at_once_but_not_other_sessions():
    user = UserFactory()
    pair = sign_in(user.email).json()
    other_device = sign_in(user.email).json()

    response = bearer(pair["access"]).post(LOGOUT)

    assert response.status_code == 204
    assert_session_ended(pair["access"])
    assert_problem(refresh(pair["refresh"]), 401, "session_revoked")
    assert AuthSession.objects.get(pk=pair["session_id"]).revoked_reason == "logout"
    assert bearer(other_device["access"]).get(ME).status_code == 200


# --- Password change ---------------------------------------------------------


def change_password(access: str, current: str, new: str):
    return bearer(access).post(PASSWORD, {"current_password": current, "new_password": new}, format="json")


def test_password_change_with_a_wrong_current_password_is_403():
    user = UserFactory()
    pair = sign_in(user.email).json()

    assert_problem(change_password(pair["access"], "not my password", NEW_PASSWORD), 403, "wrong_password")

    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
    assert bearer(pair["access"]).get(ME).status_code == 200


def test_password_change_refuses_a_new_password_under_12_characters():
    user = UserFactory()
    pair = sign_in(user.email).json()

    body = assert_problem(change_password(pair["access"], TEST_PASSWORD, "Short1!pass"), 400, "validation_error")

    assert field_errors(body) == {"new_password": ["password_too_short"]}
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_password_change_ends_every_session_and_returns_working_tokens():
    user = UserFactory()
    this_device = sign_in(user.email).json()
    other_device = sign_in(user.email).json()

    response = change_password(this_device["access"], TEST_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == TOKEN_PAIR_FIELDS
    assert fresh["session_id"] not in {this_device["session_id"], other_device["session_id"]}
    assert_session_ended(other_device["access"])
    assert_problem(refresh(other_device["refresh"]), 401, "session_revoked")
    assert_session_ended(this_device["access"])
    assert bearer(fresh["access"]).get(ME).status_code == 200
    assert refresh(fresh["refresh"]).status_code == 200
    assert_problem(sign_in(user.email, TEST_PASSWORD), 401, "invalid_credentials")
    assert sign_in(user.email, NEW_PASSWORD).status_code == 200


# --- Throttling ---------------------------------------------------------------


def test_sixth_sign_in_attempt_for_one_email_within_a_minute_is_throttled():
    email = f"target-{uuid.uuid4().hex}@example.com"
    UserFactory(email=email)

    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        # Each attempt from a different address: the limit is per account, not per IP.
        for _ in range(5):
            assert_problem(sign_in(email, "guess", ip=unique_ip()), 401, "invalid_credentials")
        throttled = sign_in(email, TEST_PASSWORD, ip=unique_ip())

        assert_problem(throttled, 429, "throttled")
        assert 1 <= int(throttled["Retry-After"]) <= 61
        assert not AuthSession.objects.exists()  # the right password did not get through either
        another_account = UserFactory(email=f"other-{uuid.uuid4().hex}@example.com")
        assert sign_in(another_account.email, ip=unique_ip()).status_code == 200

        traveller.shift(timedelta(seconds=61))
        assert sign_in(email, TEST_PASSWORD, ip=unique_ip()).status_code == 200


# --- Access tokens -------------------------------------------------------------


def _b64(segment: bytes) -> str:
    return base64.urlsafe_b64encode(segment).rstrip(b"=").decode()


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_a_tampered_access_token_is_401():
    victim, attacker = UserFactory(), UserFactory()
    pair = sign_in(attacker.email).json()
    header, payload, signature = pair["access"].split(".")
    claims = json.loads(_unb64(payload))
    claims["user_id"] = str(victim.pk)
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])

    response = bearer(forged).get(ME)

    assert_problem(response, 401, "token_invalid")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_access_token_expires_after_15_minutes():
    pair = sign_in(UserFactory().email).json()

    with time_machine.travel(timedelta(minutes=14, seconds=50)):
        assert bearer(pair["access"]).get(ME).status_code == 200
    with time_machine.travel(timedelta(minutes=15, seconds=1)):
        assert_problem(bearer(pair["access"]).get(ME), 401, "token_invalid")


def test_a_malformed_authorization_header_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert_problem(client.get(ME), 401, "token_invalid")


# --- Guardian registration ------------------------------------------------------


def register(**overrides):
    data = {"email": "new.parent@example.com", "password": NEW_PASSWORD, "first_name": "Noa", "last_name": "Lee"}
    return APIClient().post(REGISTER, {**data, **overrides}, format="json", REMOTE_ADDR=unique_ip())


def test_register_a_guardian():
    response = register(email="New.Parent@Example.com", phone="0400 000 000")

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(email="new.parent@example.com")
    assert body == {
        "id": user.pk,
        "email": "new.parent@example.com",
        "first_name": "Noa",
        "last_name": "Lee",
        "phone": "+61400000000",
        "guardian": {"postcode": "", "notify_by_email": True, "notify_by_push": True},
        "staff": None,
        "is_program_administrator": False,
    }
    assert Guardian.objects.filter(user=user).exists()
    assert sign_in("new.parent@example.com", NEW_PASSWORD).status_code == 200


def test_register_with_a_taken_email_is_400():
    UserFactory(email="taken@example.com")

    body = assert_problem(register(email="Taken@Example.com"), 400, "validation_error")

    assert field_errors(body) == {"email": ["email_taken"]}
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_register_with_a_short_password_is_400():
    body = assert_problem(register(password="Sh0rt&sweet"), 400, "validation_error")

    assert field_errors(body) == {"password": ["password_too_short"]}
    assert not User.objects.exists()
