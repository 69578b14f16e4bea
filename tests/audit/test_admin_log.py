"""Django admin additions, changes and deletions are audit rows too, with the values before and after."""

import pytest
from django.test import Client

from audit.models import AuditEntry
from guardians.models import School
from tests.audit.conftest import USER_AGENT, only_row
from tests.factories import SchoolFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_IP = "198.51.100.7"


@pytest.fixture
def operator():
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=ADMIN_IP)
    client.force_login(user)
    client.user = user
    return client


def test_a_role_change_in_the_admin_records_the_roles_before_and_after(operator):
    staff = StaffFactory(roles=["canteen"])
    answer = operator.post(
        f"/admin/guardians/staffmember/{staff.pk}/change/",
        {"user": staff.user_id, "school": staff.school_id, "roles": '["admin", "canteen"]', "created_at_0": "2026-11-30", "created_at_1": "09:00:00"},
    )

    assert answer.status_code == 302, answer.content[:2000]
    row = only_row(action="admin.change")
    assert (row.object_type, row.object_id, row.school_id) == ("guardians.staffmember", str(staff.pk), staff.school_id)
    assert row.before["roles"] == ["canteen"] and row.after["roles"] == ["admin", "canteen"]
    assert (row.actor_kind, row.actor_user_id, row.actor_roles, row.capture) == ("platform_staff", operator.user.pk, ["superuser"], "admin")
    assert (row.ip_address, row.user_agent) == (ADMIN_IP, USER_AGENT)
    assert row.details["change_message"] == "Changed Roles and Created at."


def test_a_password_set_in_the_admin_shows_that_it_changed_never_the_hash(operator):
    user = UserFactory()
    old_hash = user.password
    answer = operator.post(
        f"/admin/guardians/user/{user.pk}/password/",
        {"password1": "a new long passphrase 42", "password2": "a new long passphrase 42", "usable_password": "true"},
    )

    assert answer.status_code == 302, answer.content[:2000]
    user.refresh_from_db()
    row = only_row(action="admin.change")
    assert (row.before, row.after) == ({"password": "[redacted]"}, {"password": "[redacted]"})
    stored = str(AuditEntry.objects.filter(pk=row.pk).values().get())
    assert old_hash not in stored and user.password not in stored and "a new long passphrase" not in stored


def test_an_addition_and_a_deletion_in_the_admin_are_recorded(operator):
    added = operator.post(
        "/admin/guardians/school/add/",
        {
            "name": "Harbourside Public",
            "code": "harbourside",
            "time_zone": "Australia/Sydney",
            "canteen_cutoff": "08:30:00",
            "week_starts_on": "0",
            "postcode": "2000",
            "created_at_0": "2026-11-30",
            "created_at_1": "09:00:00",
            **{f"{prefix}-{field}": value for prefix in ("terms", "closure_days") for field, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))},
        },
    )
    assert added.status_code == 302, added.content[:3000]
    school = School.objects.get(code="harbourside")
    addition = only_row(action="admin.add")
    assert (addition.object_type, addition.object_id, addition.school_id) == ("guardians.school", str(school.pk), school.pk)
    assert (addition.before, addition.after["name"], addition.after["code"]) == ({}, "Harbourside Public", "harbourside")

    deleted = operator.post(f"/admin/guardians/school/{school.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302, deleted.content[:2000]
    deletion = only_row(action="admin.delete")
    assert (deletion.before["name"], deletion.after, deletion.school_id) == ("Harbourside Public", {}, school.pk)
    assert not School.objects.filter(pk=school.pk).exists()


def test_changes_outside_the_admin_take_no_snapshot(operator):
    school = SchoolFactory()
    school.name = "Renamed by a service"
    school.save()
    assert not AuditEntry.objects.exists()


def test_an_admin_action_that_writes_no_log_entry_records_itself(operator):
    from wallet.models import ReconciliationIssue

    issue = ReconciliationIssue.objects.create(kind="balance_mismatch", expected=100, actual=90, detail="Account 1 is off by 10.")
    done = ReconciliationIssue.objects.create(kind="balance_mismatch", detail="Already fixed.", resolved_at="2026-11-30T00:00:00Z")
    answer = operator.post(
        "/admin/wallet/reconciliationissue/", {"action": "mark_resolved", "_selected_action": [issue.pk, done.pk], "index": "0"}
    )

    assert answer.status_code == 302, answer.content[:2000]
    issue.refresh_from_db()
    row = only_row(action="reconciliation_issue.resolve")
    assert (row.object_id, row.before, row.after) == (str(issue.pk), {"resolved_at": None}, {"resolved_at": issue.resolved_at.isoformat()})
    assert (row.actor_kind, row.actor_user_id, row.ip_address) == ("platform_staff", operator.user.pk, ADMIN_IP)
