"""Link codes from the school, invitations between guardians, and revoking links."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from guardians.models import GuardianLink, LinkCode
from guardians.services import normalise_link_code
from tests.concurrency import run_concurrently
from tests.factories import GuardianFactory, GuardianLinkFactory, StaffFactory, StudentFactory
from tests.helpers import assert_problem

LINKS = "/api/v1/links"
STUDENTS = "/api/v1/students"
CODE_FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return StaffFactory(roles=["admin"])


@pytest.fixture
def student(admin):
    return StudentFactory(school=admin.school)


def issue_code(client, student):
    return client.post(f"{STUDENTS}/{student.pk}/link-codes")


def redeem(client, code: str, school_code: str, relationship: str = "parent"):
    return client.post(LINKS, {"school_code": school_code, "code": code, "relationship": relationship}, format="json")


def invite(client, student, **grants):
    return client.post(f"{STUDENTS}/{student.pk}/invites", grants, format="json")


def visible_student_ids(client) -> set[int]:
    response = client.get(STUDENTS)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def active_links(student) -> list[GuardianLink]:
    return list(GuardianLink.objects.filter(student=student, revoked_at__isnull=True))


# --- Issuing and redeeming school codes ------------------------------------------


def test_staff_issue_a_link_code_that_is_shown_once(client_for, admin, student):
    moment = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        response = issue_code(client_for(admin.user), student)

    assert response.status_code == 201
    body = response.json()
    assert CODE_FORMAT.match(body["code"]), body["code"]
    assert body == {
        "code": body["code"],
        "kind": "school",
        "student_id": student.pk,
        "school_code": student.school.code,
        "grants_money": True,
        "grants_consent": True,
        "expires_at": "2026-12-12T03:00:00Z",
    }
    stored = LinkCode.objects.get(student=student)
    assert stored.issued_by == admin.user and stored.used_at is None and stored.revoked_at is None
    # Only a hash is kept.
    assert stored.code_hash == hashlib.sha256(normalise_link_code(body["code"]).encode()).hexdigest()


def test_guardian_redeems_a_code_with_the_right_school_code(client_for, admin, student):
    code = issue_code(client_for(admin.user), student).json()["code"]
    guardian = GuardianFactory()
    client = client_for(guardian.user)

    # Typed as a parent would: lower case, no dashes, an O for a zero.
    typed = code.replace("-", "").lower().replace("0", "o")
    response = redeem(client, typed, student.school.code.upper(), relationship="grandparent")

    assert response.status_code == 201
    link = GuardianLink.objects.get(guardian=guardian, student=student)
    assert response.json() == {
        "id": link.pk,
        "guardian_id": guardian.pk,
        "guardian_name": guardian.user.full_name,
        "student_id": student.pk,
        "student_name": f"{student.first_name} {student.last_name}",
        "relationship": "grandparent",
        "can_manage_money": True,
        "can_give_consent": True,
        "origin": "school_code",
        "created_at": response.json()["created_at"],
        "revoked_at": None,
        "is_active": True,
    }
    used = LinkCode.objects.get(student=student)
    assert used.used_by == guardian and used.used_at is not None
    assert visible_student_ids(client) == {student.pk}


def test_a_code_works_once(client_for, admin, student):
    code = issue_code(client_for(admin.user), student).json()["code"]
    first, second = GuardianFactory(), GuardianFactory()
    assert redeem(client_for(first.user), code, student.school.code).status_code == 201

    assert_problem(redeem(client_for(second.user), code, student.school.code), 409, "link_code_used")

    assert [link.guardian for link in active_links(student)] == [first]


def test_redeeming_when_already_linked_is_409_and_leaves_the_code_usable(client_for, admin, student):
    linked = GuardianLinkFactory(student=student).guardian
    code = issue_code(client_for(admin.user), student).json()["code"]

    assert_problem(redeem(client_for(linked.user), code, student.school.code), 409, "already_linked")

    assert LinkCode.objects.get(student=student).used_at is None
    assert redeem(client_for(GuardianFactory().user), code, student.school.code).status_code == 201


def test_an_expired_code_is_refused(client_for, admin, student):
    code = issue_code(client_for(admin.user), student).json()["code"]
    guardian = GuardianFactory()

    with time_machine.travel(settings.LINK_CODE_TTL + timedelta(seconds=1)):
        # Signed in after the jump: an access token from before it would have expired.
        assert_problem(redeem(client_for(guardian.user), code, student.school.code), 422, "link_code_expired")

    assert active_links(student) == []
    assert LinkCode.objects.get(student=student).used_at is None


def test_a_wrong_school_code_looks_like_a_wrong_code(client_for, admin, student):
    code = issue_code(client_for(admin.user), student).json()["code"]
    other_school = StudentFactory().school
    client = client_for(GuardianFactory().user)

    wrong_school = assert_problem(redeem(client, code, other_school.code), 422, "link_code_invalid")
    wrong_code = assert_problem(redeem(client, "AAAA-BBBB-CCCC", student.school.code), 422, "link_code_invalid")

    assert wrong_school == wrong_code  # nothing to learn about which school a code belongs to
    assert active_links(student) == []


def test_issuing_a_new_code_revokes_the_previous_unused_one(client_for, admin, student):
    staff_client = client_for(admin.user)
    old_code = issue_code(staff_client, student).json()["code"]
    new_code = issue_code(staff_client, student).json()["code"]
    client = client_for(GuardianFactory().user)

    assert_problem(redeem(client, old_code, student.school.code), 422, "link_code_invalid")
    assert redeem(client, new_code, student.school.code).status_code == 201
    old, new = LinkCode.objects.filter(student=student).order_by("id")
    assert old.revoked_at is not None and old.used_at is None
    assert new.revoked_at is None and new.used_at is not None


# --- Invitations -------------------------------------------------------------------


def test_an_invited_guardian_sees_the_same_child(client_for, student):
    inviter = GuardianLinkFactory(student=student).guardian
    invitee = GuardianFactory()
    inviter_client, invitee_client = client_for(inviter.user), client_for(invitee.user)

    issued = invite(inviter_client, student, grants_money=False, grants_consent=True)
    assert issued.status_code == 201
    assert issued.json()["kind"] == "invite" and issued.json()["grants_money"] is False
    redeemed = redeem(invitee_client, issued.json()["code"], student.school.code, relationship="step_parent")

    assert redeemed.status_code == 201
    assert redeemed.json()["origin"] == "invite"
    assert redeemed.json()["can_manage_money"] is False and redeemed.json()["can_give_consent"] is True
    assert visible_student_ids(invitee_client) == {student.pk}
    for client in (inviter_client, invitee_client):
        guardians = client.get(f"{STUDENTS}/{student.pk}/guardians")
        assert guardians.status_code == 200
        assert {row["guardian_id"] for row in guardians.json()} == {inviter.pk, invitee.pk}


def test_an_invite_cannot_grant_a_permission_the_inviter_lacks(client_for, student):
    inviter = GuardianLinkFactory(student=student, can_manage_money=False).guardian
    client = client_for(inviter.user)

    assert_problem(invite(client, student, grants_money=True, grants_consent=True), 403, "permission_missing")
    assert not LinkCode.objects.filter(student=student).exists()
    assert invite(client, student, grants_money=False, grants_consent=True).status_code == 201


# --- Revoking links --------------------------------------------------------------------


def test_a_guardian_drops_their_own_link(client_for, student):
    link = GuardianLinkFactory(student=student)
    client = client_for(link.guardian.user)

    response = client.delete(f"{LINKS}/{link.pk}")

    assert response.status_code == 204
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == link.guardian.user
    assert_problem(client.get(f"{STUDENTS}/{student.pk}"), 404, "not_found")
    assert visible_student_ids(client) == set()


def test_a_school_admin_revokes_a_link_at_their_school(client_for, admin, student):
    link = GuardianLinkFactory(student=student)

    response = client_for(admin.user).delete(f"{LINKS}/{link.pk}")

    assert response.status_code == 204
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == admin.user
    assert_problem(client_for(link.guardian.user).get(f"{STUDENTS}/{student.pk}"), 404, "not_found")


def test_revoking_a_link_cancels_the_invites_issued_under_it(client_for, admin, student):
    link = GuardianLinkFactory(student=student)
    removed = client_for(link.guardian.user)
    pending = invite(removed, student).json()["code"]

    assert client_for(admin.user).delete(f"{LINKS}/{link.pk}").status_code == 204

    # Neither the removed guardian nor anyone they handed the code to gets back in with it.
    assert_problem(redeem(removed, pending, student.school.code), 422, "link_code_invalid")
    assert_problem(redeem(client_for(GuardianFactory().user), pending, student.school.code), 422, "link_code_invalid")
    assert active_links(student) == []


OUTSIDERS = {
    "admin of another school": lambda student: StaffFactory(roles=["admin"]),
    "teacher of the same school": lambda student: StaffFactory(school=student.school, roles=["teacher"]),
}


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_staff_who_may_not_revoke_a_link_get_404(client_for, student, outsider):
    link = GuardianLinkFactory(student=student)
    staff = OUTSIDERS[outsider](student)

    assert_problem(client_for(staff.user).delete(f"{LINKS}/{link.pk}"), 404, "not_found")

    link.refresh_from_db()
    assert link.revoked_at is None


# --- Races -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_guardians_racing_for_one_code_make_exactly_one_link(client_for, admin, student):
    code = issue_code(client_for(admin.user), student).json()["code"]
    clients = [client_for(GuardianFactory().user) for _ in range(10)]

    responses = run_concurrently(lambda index: redeem(clients[index], code, student.school.code), 10)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 9, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "link_code_used")
    winner = next(response for response in responses if response.status_code == 201)
    links = active_links(student)
    assert [link.pk for link in links] == [winner.json()["id"]]
    assert LinkCode.objects.get(student=student).used_by_id == links[0].guardian_id
