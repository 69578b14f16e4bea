"""Every error is application/problem+json with a stable code; every response carries a request id."""

import re

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from guardians.models import LinkCode, User
from tests.factories import GuardianFactory, GuardianLinkFactory, UserFactory
from tests.helpers import PROBLEM_JSON, assert_problem, field_errors

REGISTER = "/api/v1/guardians"
LINKS = "/api/v1/links"

pytestmark = pytest.mark.django_db


def post_raw(client, url: str, body, content_type: str = "application/json"):
    return client.post(url, body, content_type=content_type)


@pytest.fixture
def guardian_client(client_for):
    return client_for(GuardianFactory().user)


# --- Bodies ------------------------------------------------------------------------


def test_malformed_json_is_400_malformed_request():
    response = post_raw(APIClient(), REGISTER, '{"email": "a@example.com", ')

    assert_problem(response, 400, "malformed_request")
    assert not User.objects.exists()


def test_a_wrong_type_is_400_with_the_field_named(client_for):
    link = GuardianLinkFactory()
    client = client_for(link.guardian.user)

    response = client.post(f"/api/v1/students/{link.student_id}/invites", {"grants_money": "maybe"}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"] == [{"field": "grants_money", "code": "invalid", "message": "Must be a valid boolean."}]
    assert not LinkCode.objects.exists()


def test_an_unknown_relationship_is_400(guardian_client):
    response = guardian_client.post(
        LINKS, {"school_code": "harbourside", "code": "AAAA-BBBB-CCCC", "relationship": "uncle"}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert field_errors(body) == {"relationship": ["invalid_choice"]}


def test_overlong_strings_are_400(guardian_client):
    response = guardian_client.post(LINKS, {"school_code": "s" * 500, "code": "c" * 33}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert field_errors(body) == {"school_code": ["max_length"], "code": ["max_length"]}


def test_missing_fields_are_listed_one_by_one():
    body = assert_problem(APIClient().post(REGISTER, {}, format="json"), 400, "validation_error")

    assert field_errors(body) == {name: ["required"] for name in ("email", "password", "first_name", "last_name")}


@pytest.mark.parametrize("body", ["[]", '"a string"', "null"])
def test_a_body_that_is_not_an_object_is_400(body):
    response = post_raw(APIClient(), REGISTER, body)

    assert_problem(response, 400, "validation_error")
    assert list(field_errors(response.json())) == [None]


def test_a_body_over_the_upload_limit_is_413():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    too_large = post_raw(APIClient(), REGISTER, "x" * (limit + 1))
    at_limit = post_raw(APIClient(), REGISTER, "x" * limit)

    assert_problem(too_large, 413, "payload_too_large")
    assert_problem(at_limit, 400, "malformed_request")  # read and parsed, not refused for its size


def test_a_body_that_is_not_json_is_415():
    response = post_raw(APIClient(), REGISTER, "email=a@example.com", content_type="text/plain")

    assert_problem(response, 415, "unsupported_media_type")


# --- URLs and methods -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/students/not-a-number", "/api/v2/students"])
def test_an_unknown_api_url_is_a_404_problem(path):
    assert_problem(APIClient().get(path), 404, "not_found")


def test_an_unknown_url_outside_the_api_is_not_problem_json():
    response = APIClient().get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_405_with_allow():
    response = APIClient().get("/api/v1/auth/token")

    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


# --- Failures of our own ----------------------------------------------------------------


def test_an_unexpected_exception_is_a_500_problem_without_internals(client_for, monkeypatch):
    def explode(user):
        raise RuntimeError("secret connection string in here")

    monkeypatch.setattr("guardians.selectors.students_visible_to", explode)

    response = client_for(GuardianFactory().user).get("/api/v1/students")

    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.content.decode()
    assert body["detail"] == "Something went wrong on our side; it has been logged."


def test_a_404_raised_by_a_plain_django_view_stays_a_404(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.get("/admin/r/999999/1/")  # the admin's "view on site" for an unknown content type

    assert response.status_code == 404


# --- Request ids -------------------------------------------------------------------------

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def oversized_post(client):
    return post_raw(client, REGISTER, "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))


@pytest.mark.parametrize(
    "status, send",
    [
        (200, lambda client: client.get("/healthz")),
        (401, lambda client: client.get("/api/v1/me")),
        (404, lambda client: client.get("/api/v1/nothing-here")),
        (405, lambda client: client.get("/api/v1/auth/token")),
        (413, oversized_post),  # refused before any view runs
    ],
)
def test_every_response_carries_a_request_id(status, send):
    response = send(APIClient())

    assert response.status_code == status
    assert GENERATED_ID.match(response["X-Request-ID"]), response["X-Request-ID"]


def test_each_request_gets_its_own_id():
    client = APIClient()
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_a_sane_inbound_request_id_is_echoed():
    response = APIClient().get("/api/v1/me", HTTP_X_REQUEST_ID="edge-7f3a.9b2c_01")

    assert response["X-Request-ID"] == "edge-7f3a.9b2c_01"


@pytest.mark.parametrize("inbound", ["short", "x" * 65, "has spaces in it", "evil\"quote<script>", "ümlaut-identifier"])
def test_an_insane_inbound_request_id_is_replaced(inbound):
    response = APIClient().get("/api/v1/me", HTTP_X_REQUEST_ID=inbound)

    assert GENERATED_ID.match(response["X-Request-ID"]), response["X-Request-ID"]


def test_problem_bodies_are_problem_json_even_when_the_client_asks_for_json():
    response = APIClient().get("/api/v1/me", HTTP_ACCEPT="application/json")

    assert response["Content-Type"] == PROBLEM_JSON
