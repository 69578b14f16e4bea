"""Who may call which endpoint, and who may reach which object.

The matrix below lists every endpoint declared in api/urls.py and, for each kind
of caller, the status it must get. Another tenant's object is a 404 (it might
as well not exist), never a 403.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, resolve
from rest_framework.test import APIClient

from api import urls as api_urls
from guardians.models import GuardianLink, LinkCode, School, Student, User
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
    StudentFactory,
)
from tests.helpers import assert_problem
from wallet.models import Merchant

API = "/api/v1"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """Two schools. `guardian` is linked to `student` at school A; `other_guardian` to a child at school B."""

    school: School
    student: Student
    link: GuardianLink
    merchant: Merchant
    people: dict[str, User]


@pytest.fixture
def world() -> World:
    school, other_school = SchoolFactory(), SchoolFactory()
    link = GuardianLinkFactory(student=StudentFactory(school=school))
    other_link = GuardianLinkFactory(student=StudentFactory(school=other_school))
    return World(
        school=school,
        student=link.student,
        link=link,
        merchant=MerchantFactory(school=school),
        people={
            "guardian": link.guardian.user,
            "other_guardian": other_link.guardian.user,
            "admin": StaffFactory(school=school, roles=["admin"]).user,
            "teacher": StaffFactory(school=school, roles=["teacher"]).user,
            "canteen": StaffFactory(school=school, roles=["canteen"]).user,
            "other_admin": StaffFactory(school=other_school, roles=["admin"]).user,
            "program_admin": ProgramAdministratorFactory().user,
        },
    )


@pytest.fixture
def caller(world, client_for, terminal_client):
    def make(name: str) -> APIClient:
        if name == "anonymous":
            return APIClient()
        if name == "terminal":
            return terminal_client(world.merchant)
        return client_for(world.people[name])

    return make


PERSONS = ("guardian", "other_guardian", "admin", "teacher", "canteen", "other_admin", "program_admin")
CALLERS = ("anonymous", "terminal", *PERSONS)

# The code each status must carry, unless a cell names its own.
DEFAULT_CODES = {400: "validation_error", 401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@dataclass(frozen=True)
class Endpoint:
    url_name: str
    method: str
    path: str  # below /api/v1, with {student}, {school} and {link} to fill in
    expect: dict  # caller -> status, or (status, code)
    body: dict | None = None

    def url(self, world: World) -> str:
        return API + self.path.format(student=world.student.pk, school=world.school.pk, link=world.link.pk)


def persons(default, **exceptions) -> dict:
    """Anonymous 401 and terminal 403 (a terminal is not a person); `default` for every person but the exceptions."""
    return {"anonymous": 401, "terminal": 403, **{name: default for name in PERSONS}, **exceptions}


def everyone(status) -> dict:
    return {name: status for name in CALLERS}


PUBLIC_EMPTY_BODY = everyone(400)  # public, and credentials are ignored: every caller reaches validation

ENDPOINTS = [
    Endpoint("auth-token", "post", "/auth/token", PUBLIC_EMPTY_BODY, body={}),
    Endpoint("auth-refresh", "post", "/auth/token/refresh", PUBLIC_EMPTY_BODY, body={}),
    Endpoint("guardian-register", "post", "/guardians", PUBLIC_EMPTY_BODY, body={}),
    Endpoint("auth-logout", "post", "/auth/logout", persons(204)),
    Endpoint("auth-password", "post", "/auth/password", persons(400), body={}),
    Endpoint("me", "get", "/me", persons(200)),
    Endpoint("me", "patch", "/me", persons(200), body={"first_name": "Renamed"}),
    Endpoint(
        "school-detail", "get", "/schools/{school}",
        persons(200, other_guardian=404, other_admin=404, program_admin=403),
    ),
    Endpoint("student-list", "get", "/students", persons(200, program_admin=403)),
    Endpoint(
        "student-detail", "get", "/students/{student}",
        persons(200, other_guardian=404, other_admin=404, program_admin=403),
    ),
    Endpoint(
        "student-link-codes", "post", "/students/{student}/link-codes",
        persons(403, admin=201, teacher=201, other_admin=404),
    ),
    Endpoint(
        "student-invites", "post", "/students/{student}/invites",
        persons(403, guardian=201, other_guardian=404), body={},
    ),
    Endpoint(
        "student-guardians", "get", "/students/{student}/guardians",
        persons(200, other_guardian=404, other_admin=404, program_admin=403),
    ),
    Endpoint("link-list", "get", "/links", persons(403, guardian=200, other_guardian=200)),
    Endpoint(
        "link-list", "post", "/links",
        persons(403, guardian=(422, "link_code_invalid"), other_guardian=(422, "link_code_invalid")),
        body={"school_code": "nowhere", "code": "AAAA-BBBB-CCCC"},
    ),
    Endpoint(
        "link-detail", "delete", "/links/{link}",
        persons(404, guardian=204, admin=204, program_admin=403),
    ),
    Endpoint("terminal-me", "get", "/terminal", {**persons(403), "terminal": 200}),
]


def _declared_endpoints():
    """(url name, method) for every view declared directly in api/urls.py.

    Route modules included from there (api/routes/*) belong to their domains' suites.
    """
    for pattern in api_urls.urlpatterns:
        if isinstance(pattern, URLPattern):
            view = pattern.callback.view_class
            for method in HTTP_METHODS:
                if hasattr(view, method):
                    yield pattern.name, method


def test_the_matrix_covers_every_endpoint_and_every_caller():
    assert sorted({(e.url_name, e.method) for e in ENDPOINTS}) == sorted(set(_declared_endpoints()))
    for endpoint in ENDPOINTS:
        assert set(endpoint.expect) == set(CALLERS), endpoint
        assert resolve(API + endpoint.path.format(student=1, school=1, link=1)).url_name == endpoint.url_name


@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method.upper()} {e.path}")
def test_who_may_call_what(world, caller, endpoint, caller_name):
    expected = endpoint.expect[caller_name]
    status, code = expected if isinstance(expected, tuple) else (expected, DEFAULT_CODES.get(expected))

    client = caller(caller_name)
    response = getattr(client, endpoint.method)(endpoint.url(world), endpoint.body, format="json")

    if status >= 400:
        assert_problem(response, status, code)
    else:
        assert response.status_code == status, (response.status_code, response.content[:300])
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Objects of another tenant are 404, never 403 -------------------------------------


@pytest.mark.parametrize("suffix", ["", "/guardians", "/invites"])
def test_another_guardians_child_is_indistinguishable_from_no_child(world, caller, suffix):
    client = caller("other_guardian")
    method = client.post if suffix == "/invites" else client.get

    someone_elses = method(f"{API}/students/{world.student.pk}{suffix}", {}, format="json")
    nonexistent = method(f"{API}/students/999999{suffix}", {}, format="json")

    assert assert_problem(someone_elses, 404, "not_found") == assert_problem(nonexistent, 404, "not_found")
    assert not LinkCode.objects.exists()


def test_staff_cannot_see_another_schools_student_or_issue_a_code_for_them(world, caller):
    client = caller("other_admin")

    assert_problem(client.get(f"{API}/students/{world.student.pk}"), 404, "not_found")
    assert_problem(client.post(f"{API}/students/{world.student.pk}/link-codes"), 404, "not_found")
    assert world.student.pk not in {row["id"] for row in client.get(f"{API}/students").json()["results"]}
    assert not LinkCode.objects.exists()


def test_lists_show_only_what_the_caller_may_see(world, caller):
    own_school_students = {world.student.pk, StudentFactory(school=world.school).pk}

    assert {row["id"] for row in caller("guardian").get(f"{API}/students").json()["results"]} == {world.student.pk}
    assert {row["id"] for row in caller("canteen").get(f"{API}/students").json()["results"]} == own_school_students
    assert [row["id"] for row in caller("guardian").get(f"{API}/links").json()] == [world.link.pk]
    assert world.link.pk not in {row["id"] for row in caller("other_guardian").get(f"{API}/links").json()}


def test_a_school_is_visible_to_its_staff_and_to_guardians_of_its_students(world, caller):
    url = f"{API}/schools/{world.school.pk}"
    for name in ("guardian", "admin", "canteen"):
        response = caller(name).get(url)
        assert response.status_code == 200
        assert response.json()["code"] == world.school.code
    assert_problem(caller("other_guardian").get(url), 404, "not_found")
    assert_problem(caller("other_admin").get(url), 404, "not_found")


def test_a_guardian_loses_sight_of_the_school_with_their_last_link(world, caller):
    client = caller("guardian")
    assert client.delete(f"{API}/links/{world.link.pk}").status_code == 204

    assert_problem(client.get(f"{API}/schools/{world.school.pk}"), 404, "not_found")
