"""Who reads the audit log: a school's admins their school's rows, platform staff every row, no one else."""

import pytest
import time_machine

from audit.services import audit_record
from tests.factories import (
    GuardianFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

LOG = "/api/v1/audit-log"


@pytest.fixture
def two_schools():
    school_a, school_b = SchoolFactory(), SchoolFactory()
    cook_a = StaffFactory(school=school_a, roles=["canteen"])
    cook_b = StaffFactory(school=school_b, roles=["canteen"])
    rows = {
        "a": audit_record(action="canteen.menu_item_update", object_type="canteen.menu_item", object_id=1, actor=cook_a.user),
        "a2": audit_record(action="canteen.order_refund", object_type="canteen.order", object_id=7, actor=cook_a.user),
        "b": audit_record(action="canteen.menu_item_update", object_type="canteen.menu_item", object_id=2, actor=cook_b.user),
        "program": audit_record(
            action="voucher.revoke", object_type="vouchers.voucher", object_id=3, program_id=9, actor=ProgramAdministratorFactory().user
        ),
    }
    return school_a, school_b, cook_a, rows


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


def test_a_school_admin_reads_their_school_only(two_schools, client_for):
    school_a, _, _, rows = two_schools
    admin_a = client_for(StaffFactory(school=school_a, roles=["admin"]).user)

    assert ids(admin_a.get(LOG)) == [rows["a2"].pk, rows["a"].pk]
    assert ids(admin_a.get(LOG, {"school_id": rows["b"].school_id})) == []  # the filter never widens
    assert admin_a.get(f"{LOG}/{rows['a'].pk}").json()["action"] == "canteen.menu_item_update"
    assert_problem(admin_a.get(f"{LOG}/{rows['b'].pk}"), 404, "not_found")
    assert_problem(admin_a.get(f"{LOG}/{rows['program'].pk}"), 404, "not_found")


def test_platform_staff_read_everything_and_filter_by_school(two_schools, client_for):
    _, school_b, _, rows = two_schools
    platform = client_for(UserFactory(is_staff=True))

    assert ids(platform.get(LOG)) == [rows["program"].pk, rows["b"].pk, rows["a2"].pk, rows["a"].pk]
    assert ids(platform.get(LOG, {"school_id": school_b.pk})) == [rows["b"].pk]
    assert platform.get(f"{LOG}/{rows['program'].pk}").json()["program_id"] == 9


@pytest.mark.parametrize("roles", [["canteen"], ["teacher"], ["finance"]])
def test_staff_without_the_admin_role_are_refused(two_schools, client_for, roles):
    school_a, _, _, rows = two_schools
    staff = client_for(StaffFactory(school=school_a, roles=roles).user)
    assert_problem(staff.get(LOG), 403, "permission_denied")
    assert_problem(staff.get(f"{LOG}/{rows['a'].pk}"), 403, "permission_denied")


def test_guardians_program_administrators_terminals_and_strangers_are_refused(two_schools, client_for, terminal_client, api_client):
    _, _, _, rows = two_schools
    for caller in (
        client_for(GuardianFactory().user),
        client_for(ProgramAdministratorFactory().user),
        terminal_client(MerchantFactory()),
    ):
        assert_problem(caller.get(LOG), 403, "permission_denied")
        assert_problem(caller.get(f"{LOG}/{rows['a'].pk}"), 403, "permission_denied")
    assert api_client.get(LOG).status_code == 401


def test_filters_by_actor_action_object_and_time(two_schools, client_for):
    school_a, _, cook_a, rows = two_schools
    admin_a = client_for(StaffFactory(school=school_a, roles=["admin"]).user)
    with time_machine.travel("2026-12-01T00:00:00Z", tick=False):
        early = audit_record(action="canteen.day_close", object_type="canteen.service_day", object_id="2026-12-01", actor=cook_a.user)
    with time_machine.travel("2026-12-02T00:00:00Z", tick=False):
        late = audit_record(action="canteen.day_close", object_type="canteen.service_day", object_id="2026-12-02", actor=cook_a.user)
    other_admin = StaffFactory(school=school_a, roles=["admin"])
    mine = audit_record(action="canteen.day_close", object_type="canteen.service_day", object_id="x", actor=other_admin.user)

    assert ids(admin_a.get(LOG, {"actor_user_id": other_admin.user_id})) == [mine.pk]
    assert ids(admin_a.get(LOG, {"actor_user_id": cook_a.user_id, "action": "canteen.order_refund"})) == [rows["a2"].pk]
    assert ids(admin_a.get(LOG, {"object_type": "canteen.menu_item", "object_id": "1"})) == [rows["a"].pk]
    window = {"action": "canteen.day_close", "occurred_from": "2026-12-01T00:00:00Z", "occurred_to": "2026-12-02T00:00:00Z"}
    assert ids(admin_a.get(LOG, window)) == [early.pk]
    assert ids(admin_a.get(LOG, {**window, "occurred_to": "2026-12-02T00:00:01Z"})) == [late.pk, early.pk]
    assert_problem(admin_a.get(LOG, {"occurred_from": "2026-12-02T00:00:00Z", "occurred_to": "2026-12-01T00:00:00Z"}), 400, "validation_error")
    assert_problem(admin_a.get(LOG, {"actor_user_id": "me"}), 400, "validation_error")


def test_the_list_is_cursor_paginated_newest_first(client_for):
    staff = StaffFactory(roles=["admin"])
    made = [audit_record(action=f"test.{n}", object_type="test", object_id=n, actor=staff.user).pk for n in range(5)]
    admin = client_for(staff.user)

    first = admin.get(LOG, {"page_size": 2}).json()
    second = admin.get(first["next"]).json()
    third = admin.get(second["next"]).json()

    assert [row["id"] for page in (first, second, third) for row in page["results"]] == made[::-1]
    assert third["next"] is None


def test_a_row_renders_who_what_when_and_from_where(client_for):
    staff = StaffFactory(roles=["admin", "canteen"])
    row = audit_record(
        action="canteen.menu_item_update", object_type="canteen.menu_item", object_id=5, before={"price": 650}, after={"price": 700}, actor=staff.user
    )
    body = client_for(staff.user).get(f"{LOG}/{row.pk}").json()
    assert body == {
        "id": row.pk,
        "occurred_at": row.occurred_at.isoformat().replace("+00:00", "Z"),
        "actor": {"kind": "school_staff", "user_id": staff.user_id, "roles": ["admin", "canteen"], "terminal_id": None, "merchant_id": None},
        "action": "canteen.menu_item_update",
        "object_type": "canteen.menu_item",
        "object_id": "5",
        "school_id": staff.school_id,
        "program_id": None,
        "before": {"price": 650},
        "after": {"price": 700},
        "details": {},
        "request": {"id": "", "ip_address": None, "user_agent": ""},
        "capture": "service",
    }
