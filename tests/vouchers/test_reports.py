"""Uptake numbers for administrators, and expiry reminders for holders."""

import pytest

from core.models import Notification
from tests.factories import GuardianLinkFactory, SchoolFactory, StudentFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import post, redeem, sydney
from tests.vouchers.factories import app_qr, approve, issue, make_program
from vouchers.reminders import expiry_reminders_send
from vouchers.tasks import send_expiry_reminders

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbers_world(world):
    """Three Active Kids vouchers at two schools (one spent in part, one voided), and one of another program."""
    other_school = SchoolFactory(name="Banksia Primary")
    vouchers = [
        issue(world.program, link=world.link)[0],
        issue(world.program, link=GuardianLinkFactory(student=StudentFactory(school=world.school), guardian__postcode="2010"))[0],
        issue(world.program, link=GuardianLinkFactory(student=StudentFactory(school=other_school), guardian__postcode="6000"))[0],
    ]
    creative = make_program(admin=world.admin, name="Creative Kids", categories=["creative"], use_rule="single_use")
    approve(creative, world.merchant, categories=["creative"])
    world.merchant.categories = ["sport", "creative"]
    world.merchant.save()
    [art] = issue(creative, link=world.link)

    assert redeem(world.terminal_client, [{"qr": app_qr(vouchers[0])}], 6000).status_code == 201
    voided = redeem(world.terminal_client, [{"qr": app_qr(vouchers[2])}], 1000).json()["redemption_id"]
    assert post(world.terminal_client, f"/api/v1/terminal/voucher-redemptions/{voided}/void").status_code == 200
    assert redeem(world.terminal_client, [{"qr": app_qr(art)}], 7000).status_code == 201
    return world, creative, other_school


def rows(response):
    assert response.status_code == 200, response.content
    return {row["label"]: {k: v for k, v in row.items() if k not in ("key", "label")} for row in response.json()["rows"]}


def test_uptake_by_program(numbers_world):
    world, creative, _ = numbers_world

    response = world.admin_client.get("/api/v1/voucher-reports/uptake")

    assert rows(response) == {
        "Active Kids": {"vouchers_issued": 3, "value_issued": 30000, "vouchers_redeemed": 1, "value_redeemed": 6000, "value_forfeited": 0, "redemption_rate": 0.3333},
        "Creative Kids": {"vouchers_issued": 1, "value_issued": 10000, "vouchers_redeemed": 1, "value_redeemed": 7000, "value_forfeited": 3000, "redemption_rate": 1.0},
    }
    assert response.json()["totals"] | {"key": None} == {
        "key": None,
        "label": "All",
        "vouchers_issued": 4,
        "value_issued": 40000,
        "vouchers_redeemed": 2,
        "value_redeemed": 13000,
        "value_forfeited": 3000,
        "redemption_rate": 0.5,
    }


def test_uptake_by_school_postcode_and_category(numbers_world):
    world, _, other_school = numbers_world
    url = f"/api/v1/voucher-reports/uptake?program_id={world.program.pk}&group_by="

    by_school = rows(world.admin_client.get(url + "school"))
    assert {label: (row["vouchers_issued"], row["vouchers_redeemed"]) for label, row in by_school.items()} == {
        world.school.name: (2, 1),
        "Banksia Primary": (1, 0),
    }
    by_postcode = rows(world.admin_client.get(url + "postcode"))
    assert {label: (row["vouchers_issued"], row["value_redeemed"]) for label, row in by_postcode.items()} == {"2010": (2, 6000), "6000": (1, 0)}

    by_category = rows(world.admin_client.get("/api/v1/voucher-reports/uptake?group_by=category"))
    assert {label: (row["vouchers_issued"], row["vouchers_redeemed"], row["value_redeemed"]) for label, row in by_category.items()} == {
        "Creative": (1, 1, 7000),
        "Sport": (3, 1, 6000),
    }


def test_uptake_as_csv(numbers_world):
    world, _, _ = numbers_world

    response = world.admin_client.get(f"/api/v1/voucher-reports/uptake.csv?program_id={world.program.pk}")

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines() == [
        "group_by,key,label,vouchers_issued,value_issued_cents,vouchers_redeemed,value_redeemed_cents,value_redeemed,value_forfeited_cents,redemption_rate",
        f"program,{world.program.pk},Active Kids,3,30000,1,6000,60.00,0,0.3333",
        "program,,All,3,30000,1,6000,60.00,0,0.3333",
    ]


def test_an_administrator_sees_only_their_own_programs(numbers_world, client_for):
    world, _, _ = numbers_world
    from tests.factories import ProgramAdministratorFactory

    other_admin = client_for(ProgramAdministratorFactory().user)
    assert other_admin.get("/api/v1/voucher-reports/uptake").json()["rows"] == []
    assert_problem(other_admin.get(f"/api/v1/voucher-reports/uptake?program_id={world.program.pk}"), 404, "not_found")
    assert_problem(world.guardian_client.get("/api/v1/voucher-reports/uptake"), 403, "permission_denied")


# --- Expiry reminders ------------------------------------------------------------------------


def test_holders_are_reminded_14_days_before_expiry_once(world, clock_at, django_capture_on_commit_callbacks):
    [voucher] = issue(world.program, link=world.link)
    [spent] = issue(world.program)
    assert redeem(world.terminal_client, [{"qr": app_qr(spent)}], 10000).status_code == 201

    clock_at(sydney(2026, 12, 16, 23, 0))  # 15 days and an hour before the end of 31 December
    assert expiry_reminders_send() == 0
    clock_at(sydney(2026, 12, 17, 9, 0))
    with django_capture_on_commit_callbacks():
        assert send_expiry_reminders() == 1
    assert send_expiry_reminders() == 0  # the job again: no second reminder

    [notice] = Notification.objects.all()
    assert notice.user == world.link.guardian.user and notice.kind == "voucher_expiring"
    assert notice.title == "$100.00 of Mia's Active Kids voucher expires on 31 Dec 2026"
    assert notice.data == {"voucher_id": voucher.pk, "expires_on": "2026-12-31"}
