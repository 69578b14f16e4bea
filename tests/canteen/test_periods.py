"""Service periods: recess and lunch each have their own cut-off, menu, orders and kitchen run.

Wednesday 2 December 2026 in Sydney (AEDT, UTC+11): recess closes at 07:45 (20:45 UTC the day
before), lunch, the default period, at the school's 08:30 (21:30 UTC).
"""

import uuid
from datetime import time

import pytest

from canteen import cutoff, orders
from canteen.models import CutoffRun, DailyStock, MenuItem, Order, ServicePeriod
from canteen.periods import default_period
from core.errors import DomainError
from core.models import Notification
from tests.canteen.conftest import WEDNESDAY
from tests.canteen.label_reader import read_labels
from tests.factories import StaffFactory
from wallet import accounts
from wallet.models import Hold, HoldStatus

pytestmark = pytest.mark.django_db

RECESS_CLOSED = "2026-12-01T20:45:00Z"  # Wednesday 07:45 in Sydney: recess's cut-off, exactly
BEFORE_RECESS_CUTOFF = "2026-12-01T20:44:59.999Z"


@pytest.fixture
def recess(canteen):
    """A recess period closing at 07:45; the fruit cup is on recess only, the juice on both."""
    period = ServicePeriod.objects.create(school=canteen.school, name="Recess", cutoff=time(7, 45))
    canteen.juice.periods.set([period, default_period(canteen.school)])
    return period


@pytest.fixture
def fruit(canteen, recess):
    item = MenuItem.objects.create(school=canteen.school, name="Fruit cup", price=250, category="fruit")
    item.periods.set([recess])
    return item


def order(canteen, items, period=None, day=WEDNESDAY, client=None):
    body = {"service_date": day.isoformat(), "items": [{"item_id": item.pk, "quantity": qty} for item, qty in items]}
    if period is not None:
        body["period_id"] = period.pk
    return (client or canteen.guardian_client).post(
        f"/api/v1/students/{canteen.student.pk}/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )


def staff(client_for, canteen, roles=("admin",)):
    return client_for(StaffFactory(school=canteen.school, roles=list(roles)).user)


# --- Managing periods ----------------------------------------------------------------------


def test_a_school_starts_with_its_cutoff_as_the_default_lunch_period(canteen, client_for):
    listed = staff(client_for, canteen, roles=["canteen"]).get("/api/v1/canteen/periods")

    assert listed.status_code == 200
    lunch = default_period(canteen.school)
    assert listed.json() == [{"id": lunch.pk, "name": "Lunch", "cutoff": "08:30:00", "late_cutoff": None, "is_default": True, "is_active": True}]


def test_an_admin_adds_recess_and_the_list_is_in_the_days_order(canteen, client_for):
    admin = staff(client_for, canteen)

    created = admin.post("/api/v1/canteen/periods", {"name": "Recess", "cutoff": "07:45"}, format="json")
    listed = admin.get("/api/v1/canteen/periods").json()

    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0} == {"id": 0, "name": "Recess", "cutoff": "07:45:00", "late_cutoff": None, "is_default": False, "is_active": True}
    assert [(p["name"], p["cutoff"]) for p in listed] == [("Recess", "07:45:00"), ("Lunch", "08:30:00")]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "Lunch", "cutoff": "09:30"}, 409, "period_name_taken"),
        # 02:30 does not happen in Sydney on the first Sunday of October (the clocks go 02:00 -> 03:00).
        ({"name": "Night shift", "cutoff": "02:30"}, 400, "nonexistent_local_time"),
        ({"name": "Recess", "cutoff": "07:45", "late_cutoff": "02:15"}, 400, "nonexistent_local_time"),
        ({"name": "Recess", "cutoff": "07:45", "late_cutoff": "07:30"}, 422, "period_invalid"),
        ({"name": "", "cutoff": "07:45"}, 400, "validation_error"),
        ({"name": "Recess", "cutoff": "25:00"}, 400, "validation_error"),
    ],
)
def test_a_period_that_cannot_work_is_refused_with_a_code(canteen, client_for, body, status, code):
    answer = staff(client_for, canteen).post("/api/v1/canteen/periods", body, format="json")

    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert not ServicePeriod.objects.filter(school=canteen.school, is_default=False).exists()


def test_only_admins_change_periods(canteen, client_for):
    cook = staff(client_for, canteen, roles=["canteen"])

    answer = cook.post("/api/v1/canteen/periods", {"name": "Recess", "cutoff": "07:45"}, format="json")

    assert (answer.status_code, answer.json()["code"]) == (403, "permission_missing")
    assert not ServicePeriod.objects.filter(name="Recess").exists()


def test_the_default_period_is_the_settings_cutoff_both_ways(canteen, client_for):
    admin = staff(client_for, canteen)
    lunch = default_period(canteen.school)

    moved = admin.patch(f"/api/v1/canteen/periods/{lunch.pk}", {"cutoff": "09:30", "late_cutoff": "10:00"}, format="json")
    settings = admin.get("/api/v1/canteen/settings").json()
    admin.patch("/api/v1/canteen/settings", {"canteen_cutoff": "09:15"}, format="json")

    assert moved.status_code == 200, moved.content
    assert (settings["canteen_cutoff"], settings["late_cutoff"]) == ("09:30:00", "10:00:00")
    lunch.refresh_from_db()
    assert (lunch.cutoff, lunch.late_cutoff) == (time(9, 15), time(10, 0))


def test_the_default_period_cannot_be_switched_off_and_a_settings_cutoff_in_the_gap_is_refused(canteen, client_for):
    admin = staff(client_for, canteen)
    lunch = default_period(canteen.school)

    off = admin.patch(f"/api/v1/canteen/periods/{lunch.pk}", {"is_active": False}, format="json")
    gap = admin.patch("/api/v1/canteen/settings", {"canteen_cutoff": "02:30"}, format="json")

    assert (off.status_code, off.json()["code"]) == (422, "default_period_required")
    assert (gap.status_code, gap.json()["code"]) == (400, "nonexistent_local_time")
    lunch.refresh_from_db()
    canteen.school.refresh_from_db()
    assert (lunch.is_active, lunch.cutoff, canteen.school.canteen_cutoff) == (True, time(8, 30), time(8, 30))


def test_another_schools_period_is_not_found(canteen, client_for, recess):
    elsewhere = client_for(StaffFactory(roles=["admin"]).user)

    answer = elsewhere.patch(f"/api/v1/canteen/periods/{recess.pk}", {"cutoff": "07:00"}, format="json")

    assert answer.status_code == 404
    recess.refresh_from_db()
    assert recess.cutoff == time(7, 45)


# --- Ordering per period ---------------------------------------------------------------------


def test_a_child_has_one_order_per_period_and_day(canteen, recess, fruit):
    for_recess = order(canteen, [(fruit, 1), (canteen.juice, 1)], period=recess)
    for_lunch = order(canteen, [(canteen.wrap, 1)])  # no period: the default, lunch
    second_recess = order(canteen, [(canteen.juice, 1)], period=recess)

    assert (for_recess.status_code, for_lunch.status_code) == (201, 201), (for_recess.content, for_lunch.content)
    assert (for_recess.json()["period_id"], for_recess.json()["period"]) == (recess.pk, "Recess")
    assert (for_lunch.json()["period_id"], for_lunch.json()["period"]) == (default_period(canteen.school).pk, "Lunch")
    assert (second_recess.status_code, second_recess.json()["code"]) == (409, "order_exists")
    assert Order.objects.filter(student=canteen.student, service_date=WEDNESDAY).count() == 2
    wallet = accounts.guardian_wallet(canteen.link.guardian)
    assert (wallet.balance, wallet.held) == (5000, 250 + 300 + 650)


def test_an_item_is_ordered_only_in_its_periods(canteen, recess, fruit):
    wrap_at_recess = order(canteen, [(canteen.wrap, 1)], period=recess)  # the wrap has no periods: lunch only
    fruit_at_lunch = order(canteen, [(fruit, 1)])

    assert (wrap_at_recess.status_code, wrap_at_recess.json()["code"]) == (422, "item_unavailable")
    assert (fruit_at_lunch.status_code, fruit_at_lunch.json()["code"]) == (422, "item_unavailable")
    assert not Order.objects.exists()


def test_each_period_closes_at_its_own_cutoff(canteen, recess, fruit, at, client_for):
    with at(BEFORE_RECESS_CUTOFF):
        in_time = order(canteen, [(fruit, 1)], period=recess, client=client_for(canteen.link.guardian.user))
    with at(RECESS_CLOSED):
        guardian = client_for(canteen.link.guardian.user)
        too_late = order(canteen, [(canteen.juice, 1)], period=recess, client=guardian)
        lunch_still_open = order(canteen, [(canteen.wrap, 1)], client=guardian)

    assert in_time.status_code == 201, in_time.content
    assert (too_late.status_code, too_late.json()["code"]) == (422, "ordering_closed")
    assert lunch_still_open.status_code == 201, lunch_still_open.content


def test_a_period_of_another_school_or_switched_off_takes_no_orders(canteen, recess, client_for):
    other_school_period = ServicePeriod.objects.create(school=StaffFactory().school, name="Recess", cutoff=time(7, 45))
    staff(client_for, canteen).patch(f"/api/v1/canteen/periods/{recess.pk}", {"is_active": False}, format="json")

    foreign = order(canteen, [(canteen.juice, 1)], period=other_school_period)
    inactive = order(canteen, [(canteen.juice, 1)], period=recess)

    assert (foreign.status_code, foreign.json()["code"]) == (422, "period_unavailable")
    assert (inactive.status_code, inactive.json()["code"]) == (422, "period_unavailable")
    assert not Order.objects.exists()


def test_the_childs_menu_is_the_periods_menu_with_its_cutoff(canteen, recess, fruit):
    url = f"/api/v1/students/{canteen.student.pk}/menu?date=2026-12-02"

    at_recess = canteen.guardian_client.get(f"{url}&period_id={recess.pk}").json()
    at_lunch = canteen.guardian_client.get(url).json()

    assert (at_recess["period"], at_recess["cutoff_at"]) == ("Recess", "2026-12-01T20:45:00Z")
    assert sorted(item["name"] for item in at_recess["items"]) == ["Apple juice", "Fruit cup"]
    assert (at_lunch["period"], at_lunch["cutoff_at"]) == ("Lunch", "2026-12-01T21:30:00Z")
    assert sorted(item["name"] for item in at_lunch["items"]) == ["Apple juice", "Chicken wrap", "Satay skewer"]
    lunch = default_period(canteen.school)
    expected = [{"id": recess.pk, "name": "Recess"}, {"id": lunch.pk, "name": "Lunch"}]  # by cut-off: recess first
    assert at_recess["periods"] == at_lunch["periods"] == expected


def test_a_closed_period_is_not_offered_to_guardians(canteen, recess):
    recess.is_active = False
    recess.save()

    menu = canteen.guardian_client.get(f"/api/v1/students/{canteen.student.pk}/menu?date=2026-12-02").json()

    assert menu["periods"] == [{"id": default_period(canteen.school).pk, "name": "Lunch"}]


def test_staff_put_an_item_on_periods_through_the_menu_api(canteen, recess, client_for):
    cook = staff(client_for, canteen, roles=["canteen"])
    lunch = default_period(canteen.school)

    created = cook.post("/api/v1/canteen/menu-items", {"name": "Muffin", "price": 350, "category": "snack", "period_ids": [recess.pk]}, format="json")
    default = cook.post("/api/v1/canteen/menu-items", {"name": "Pie", "price": 550, "category": "lunch"}, format="json")
    moved = cook.patch(f"/api/v1/canteen/menu-items/{created.json()['id']}", {"period_ids": [recess.pk, lunch.pk]}, format="json")
    foreign = cook.patch(f"/api/v1/canteen/menu-items/{created.json()['id']}", {"period_ids": [10**9]}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["period_ids"] == [recess.pk]
    assert default.json()["period_ids"] == [lunch.pk]
    assert moved.json()["period_ids"] == sorted([recess.pk, lunch.pk])
    assert (foreign.status_code, foreign.json()["code"]) == (422, "period_unavailable")
    assert sorted(MenuItem.objects.get(pk=created.json()["id"]).periods.values_list("pk", flat=True)) == sorted([recess.pk, lunch.pk])


def test_changing_and_cancelling_keep_to_the_orders_own_period(canteen, recess, fruit, at, client_for):
    recess_order = order(canteen, [(fruit, 1)], period=recess).json()
    lunch_order = order(canteen, [(canteen.wrap, 1)]).json()

    with at(RECESS_CLOSED):
        guardian = client_for(canteen.link.guardian.user)
        change_recess = guardian.put(
            f"/api/v1/canteen/orders/{recess_order['id']}", {"items": [{"item_id": fruit.pk, "quantity": 2}]}, format="json", HTTP_IDEMPOTENCY_KEY="c1"
        )
        change_lunch = guardian.put(
            f"/api/v1/canteen/orders/{lunch_order['id']}", {"items": [{"item_id": canteen.wrap.pk, "quantity": 2}]}, format="json", HTTP_IDEMPOTENCY_KEY="c2"
        )
        cancel_recess = guardian.post(f"/api/v1/canteen/orders/{recess_order['id']}/cancel")

    assert (change_recess.status_code, change_recess.json()["code"]) == (422, "ordering_closed")
    assert change_lunch.status_code == 200, change_lunch.content
    assert (change_lunch.json()["total"], change_lunch.json()["period"]) == (1300, "Lunch")
    assert (cancel_recess.status_code, cancel_recess.json()["code"]) == (422, "ordering_closed")
    wallet = accounts.guardian_wallet(canteen.link.guardian)
    assert wallet.held == 250 + 1300


# --- The kitchen per period ---------------------------------------------------------------


def test_the_prep_list_and_labels_are_per_period_and_name_it(canteen, recess, fruit, client_for):
    order(canteen, [(fruit, 1), (canteen.juice, 1)], period=recess)
    order(canteen, [(canteen.wrap, 1), (canteen.juice, 2)])
    cook = staff(client_for, canteen, roles=["canteen"])

    whole_day = cook.get("/api/v1/canteen/prep-list?date=2026-12-02").json()
    at_recess = cook.get(f"/api/v1/canteen/prep-list?date=2026-12-02&period_id={recess.pk}").json()
    csv_text = cook.get(f"/api/v1/canteen/prep-list.csv?date=2026-12-02&period_id={recess.pk}").content.decode()
    pdf = cook.get(f"/api/v1/canteen/labels.pdf?date=2026-12-02&period_id={recess.pk}")
    unknown = cook.get("/api/v1/canteen/prep-list?date=2026-12-02&period_id=999999999")

    assert [(i["period"], i["name"], i["quantity"]) for i in whole_day["items"]] == [
        ("Recess", "Apple juice", 1),
        ("Recess", "Fruit cup", 1),
        ("Lunch", "Apple juice", 2),
        ("Lunch", "Chicken wrap", 1),
    ]
    assert [label["service"] for label in whole_day["labels"]] == ["Recess", "Lunch"]
    assert (at_recess["period_id"], at_recess["period"], at_recess["order_count"]) == (recess.pk, "Recess", 1)
    assert [(i["name"], i["quantity"]) for i in at_recess["items"]] == [("Apple juice", 1), ("Fruit cup", 1)]
    assert csv_text.count("\n") == 2 and csv_text.rstrip().endswith(",Recess")
    [label] = read_labels(pdf.content)
    assert "WED 02 DEC 2026 · RECESS" in " ".join(label.lines).upper()
    assert f"period-{recess.pk}" in pdf["Content-Disposition"]
    assert (unknown.status_code, unknown.json()["code"]) == (422, "period_unavailable")


def test_each_period_has_its_own_cutoff_run(canteen, recess, fruit, at):
    StaffFactory(school=canteen.school, roles=["canteen"])
    order(canteen, [(fruit, 1)], period=recess)
    order(canteen, [(canteen.wrap, 1)])
    lunch = default_period(canteen.school)

    with at(RECESS_CLOSED):
        due_at_recess = [(day, period) for _, day, period in cutoff.due_cutoffs() if day == WEDNESDAY]
        recess_run = cutoff.cutoff_run(school=canteen.school, service_date=WEDNESDAY, period=recess)
        lunch_early = cutoff.cutoff_run(school=canteen.school, service_date=WEDNESDAY, period=lunch)
    with at("2026-12-01T21:30:00Z"):
        due_at_lunch = [(day, period) for _, day, period in cutoff.due_cutoffs() if day == WEDNESDAY]
        lunch_run = cutoff.cutoff_run(school=canteen.school, service_date=WEDNESDAY)  # no period: the default

    assert due_at_recess == [(WEDNESDAY, recess)] and lunch_early is None
    assert due_at_lunch == [(WEDNESDAY, lunch)]
    assert (recess_run.period_id, recess_run.orders_posted, lunch_run.period_id, lunch_run.orders_posted) == (recess.pk, 1, lunch.pk, 1)
    assert CutoffRun.objects.filter(service_date=WEDNESDAY).count() == 2
    assert {o.period_id: o.hold.status for o in Order.objects.select_related("hold")} == {recess.pk: HoldStatus.POSTED, lunch.pk: HoldStatus.POSTED}
    notices = Notification.objects.filter(kind="canteen_prep_list").order_by("id")
    assert [(n.data["period"], n.title) for n in notices] == [
        ("Recess", "Recess prep list ready: 1 orders for Wed 02 Dec"),
        ("Lunch", "Lunch prep list ready: 1 orders for Wed 02 Dec"),
    ]


def test_a_refusal_after_the_stock_is_reserved_leaves_no_row_behind(canteen):
    """The stock row, the order, its lines and the hold commit together or not at all: refused for
    money after the (new) stock row was written and locked, nothing of the attempt remains."""
    canteen.wrap.daily_stock_limit = 500
    canteen.wrap.save()

    with pytest.raises(DomainError) as refused:
        orders.order_place(link=canteen.link, service_date=WEDNESDAY, lines=[orders.LineRequest(canteen.wrap.pk, 100)], note="", reference="t:poor")

    assert refused.value.code == "insufficient_funds"
    assert (Order.objects.count(), DailyStock.objects.count(), Hold.objects.count()) == (0, 0, 0)
