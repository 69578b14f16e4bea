"""What a body may be: at most 32 levels deep, numbers that fit, strings PostgreSQL can store, at most
DATA_UPLOAD_MAX_MEMORY_SIZE bytes; anything else is a 4xx problem, never a 500 (api/parsers.py)."""

import json
import uuid

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from api.parsers import MAX_DEPTH
from guardians.models import LinkCode, User
from tests.factories import GuardianLinkFactory, ProgramAdministratorFactory
from tests.helpers import assert_problem, field_errors
from tests.vouchers.factories import make_program

SIGN_IN = "/api/v1/auth/token"
REGISTER = "/api/v1/guardians"
DEEP_ARRAY = "[" * 1000 + "]" * 1000  # 2 KB
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000

pytestmark = pytest.mark.django_db


def post_raw(client, url: str, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def nested(arrays: int) -> str:
    return "[" * arrays + '"x"' + "]" * arrays


@pytest.fixture
def link():
    return GuardianLinkFactory()


@pytest.fixture
def guardian(client_for, link):
    return client_for(link.guardian.user)


# --- Depth ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, '{"email": ' + DEEP_ARRAY + "}"], ids=["array", "object", "in a field"])
@pytest.mark.parametrize("url", [SIGN_IN, REGISTER, "/api/v1/auth/token/refresh"])
def test_a_body_nested_a_thousand_deep_is_400_body_too_deep_on_anonymous_endpoints(url, body):
    body = assert_problem(post_raw(APIClient(), url, body), 400, "body_too_deep")

    assert body["detail"] == f"The body nests arrays and objects more than {MAX_DEPTH} levels deep."
    assert not User.objects.filter(email__contains="[").exists()


def test_a_deep_body_with_an_idempotency_key_is_refused_before_the_key_is_claimed(guardian, link):
    response = post_raw(guardian, f"/api/v1/students/{link.student_id}/invites", DEEP_ARRAY, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert_problem(response, 400, "body_too_deep")
    assert not IdempotencyRecord.objects.exists()  # the fingerprint reads the parsed body, so it was never taken
    assert not LinkCode.objects.exists()


def test_a_deep_body_on_a_money_endpoint_is_400(guardian, link):
    response = post_raw(guardian, f"/api/v1/students/{link.student_id}/card/fund", DEEP_OBJECT, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert_problem(response, 400, "body_too_deep")


def test_the_depth_limit_is_exact_and_brackets_inside_strings_do_not_count():
    # The body's object is one level, its arrays the others.
    at_limit = assert_problem(post_raw(APIClient(), REGISTER, '{"email": ' + nested(MAX_DEPTH - 1) + "}"), 400, "validation_error")
    assert "email" in field_errors(at_limit)  # parsed, and refused for what it is, not for its depth

    assert_problem(post_raw(APIClient(), REGISTER, '{"email": ' + nested(MAX_DEPTH) + "}"), 400, "body_too_deep")
    brackets_in_a_string = json.dumps({"email": "[" * 5000 + "@example.com", "password": "{" * 100})
    assert_problem(post_raw(APIClient(), REGISTER, brackets_in_a_string), 400, "validation_error")


# --- Numbers and strings ---------------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["1" + "0" * 5000, "1e400", "-1e400", "NaN", "Infinity", "-Infinity", str(2**63), str(-(2**63) - 1)]
)
def test_numbers_no_column_can_hold_are_400_malformed_request(guardian, link, amount):
    body = '{"amount": ' + amount + "}"

    response = post_raw(guardian, f"/api/v1/students/{link.student_id}/card/fund", body, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert_problem(response, 400, "malformed_request")
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("amount", [str(2**63 - 1), "2147483648"])
def test_the_largest_integers_that_fit_reach_validation(guardian, link, amount):
    response = post_raw(guardian, f"/api/v1/students/{link.student_id}/card/fund", '{"amount": ' + amount + "}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert field_errors(assert_problem(response, 400, "validation_error")) == {"amount": ["max_value"]}


@pytest.mark.parametrize("amount, code", [("-0", "min_value"), ("1e308", "not_cents"), ("-0.0", "not_cents")])
def test_minus_zero_and_the_largest_finite_float_are_ordinary_numbers(guardian, link, amount, code):
    response = post_raw(guardian, f"/api/v1/students/{link.student_id}/card/fund", '{"amount": ' + amount + "}", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert field_errors(assert_problem(response, 400, "validation_error")) == {"amount": [code]}


@pytest.mark.parametrize("text", ['"\\ud800"', '"\\udfff tail"', '"a\\u0000b"'], ids=["high surrogate", "low surrogate", "NUL"])
def test_strings_postgresql_cannot_store_are_400_malformed_request(text):
    body = '{"email": "a@example.com", "password": "long enough 123", "first_name": ' + text + ', "last_name": "B"}'

    assert_problem(post_raw(APIClient(), REGISTER, body), 400, "malformed_request")
    assert not User.objects.exists()


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(guardian, link):
    body = '{"email": "a@example.com", "password": "\\\\ud800 and \\\\u0000 are fine", "first_name": "\\ud83d\\ude00", "last_name": "B"}'

    response = post_raw(APIClient(), REGISTER, body)

    assert response.status_code == 201, response.content
    assert User.objects.get(email="a@example.com").first_name == "\U0001f600"


# --- Size -------------------------------------------------------------------------------


def test_the_largest_legitimate_body_fits_under_the_limit(client_for):
    """A bulk-issue CSV at its 250,000-character limit, every character 4 bytes of UTF-8: 1,000,010 bytes."""
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)
    body = json.dumps({"csv": "\U0001f600" * 250_000}, ensure_ascii=False).encode()
    assert len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client_for(admin.user).post(f"/api/v1/voucher-programs/{program.pk}/bulk-issues", body, content_type="application/json")

    assert response.status_code != 413, response.content[:300]
    too_long = client_for(admin.user).post(
        f"/api/v1/voucher-programs/{program.pk}/bulk-issues", json.dumps({"csv": "x" * 250_001}), content_type="application/json"
    )
    assert field_errors(assert_problem(too_long, 400, "validation_error")) == {"csv": ["max_length"]}


def test_request_data_too_big_raised_inside_a_view_is_413(client_for, link, monkeypatch):
    def too_big(user):
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")

    monkeypatch.setattr("guardians.selectors.students_visible_to", too_big)

    assert_problem(client_for(link.guardian.user).get("/api/v1/students"), 413, "payload_too_large")


def test_too_many_query_fields_under_the_api_is_a_400_problem(guardian, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{n}=1" for n in range(20))

    assert_problem(guardian.get(f"/api/v1/wallet/statement?{query}&from=2026-01-01"), 400, "malformed_request")


def test_a_disallowed_host_under_the_api_is_a_400_problem():
    assert_problem(APIClient().get("/api/v1/me", HTTP_HOST="evil.example:99999"), 400, "malformed_request")
