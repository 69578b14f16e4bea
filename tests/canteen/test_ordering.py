"""Pre-orders: the cut-off to the millisecond, service days, allergens, bans, cancel and refund."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from api.serializers.canteen import OrderOutput
from canteen import menus, orders
from canteen.cutoff import cutoff_run
from canteen.models import MenuItem, Order, OrderStatus
from guardians.models import ClosureDay as SchoolClosureDay
from guardians.models import Term
from tests.canteen.conftest import WEDNESDAY, make_canteen
from tests.factories import GuardianLinkFactory, StaffFactory, give_wallet_money
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import Hold, HoldStatus

pytestmark = pytest.mark.django_db


def wallet_of(canteen):
    return accounts.guardian_wallet(canteen.link.guardian)


# --- The cut-off ------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "service_day", "last_ok", "first_refused"),
    [
        # An ordinary Wednesday in Sydney (AEDT, UTC+11): 08:30 local is 21:30 UTC the day before.
        ("Australia/Sydney", date(2026, 12, 2), "2026-12-01T21:29:59.999Z", "2026-12-01T21:30:00.000Z"),
        # Perth has no daylight saving (UTC+8): 08:30 local is 00:30 UTC.
        ("Australia/Perth", date(2026, 12, 2), "2026-12-02T00:29:59.999Z", "2026-12-02T00:30:00.000Z"),
        # Sydney's spring-forward day, Sunday 4 October 2026: 08:30 is already AEDT (UTC+11).
        ("Australia/Sydney", date(2026, 10, 4), "2026-10-03T21:29:59.999Z", "2026-10-03T21:30:00.000Z"),
        # Sydney's fall-back day, Sunday 5 April 2026: 08:30 is back on AEST (UTC+10).
        ("Australia/Sydney", date(2026, 4, 5), "2026-04-04T22:29:59.999Z", "2026-04-04T22:30:00.000Z"),
        # Perth on the same two days is unmoved.
        ("Australia/Perth", date(2026, 10, 4), "2026-10-04T00:29:59.999Z", "2026-10-04T00:30:00.000Z"),
        ("Australia/Perth", date(2026, 4, 5), "2026-04-05T00:29:59.999Z", "2026-04-05T00:30:00.000Z"),
    ],
)
def test_cutoff_to_the_millisecond(client_for, at, time_zone, service_day, last_ok, first_refused):
    # The DST change days are Sundays: this canteen serves every day of the week.
    with at(last_ok):
        canteen = make_canteen(client_for, time_zone=time_zone, service_weekdays=[0, 1, 2, 3, 4, 5, 6])
        accepted = canteen.order([(canteen.juice, 1)], day=service_day)
    with at(first_refused):
        refused = canteen.order([(canteen.wrap, 1)], day=service_day)

    assert accepted.status_code == 201, accepted.content
    assert refused.status_code == 422
    assert refused.json()["code"] == "ordering_closed"
    assert Order.objects.filter(student=canteen.student).count() == 1


def test_an_order_judged_before_the_cutoff_is_dated_then_not_when_it_is_written(client_for, monkeypatch):
    # Judged at 21:29:59.999 UTC (08:29:59.999 in Sydney); the clock passes the cut-off while the
    # order is priced. The order is in time, and its record must say when it was judged.
    with time_machine.travel("2026-12-01T21:29:59.999Z", tick=False) as traveller:
        canteen = make_canteen(client_for)
        priced_lines = menus.priced_lines

        def slow_pricing(**kwargs):
            traveller.shift(timedelta(milliseconds=5))
            return priced_lines(**kwargs)

        monkeypatch.setattr(menus, "priced_lines", slow_pricing)
        response = canteen.order([(canteen.juice, 1)], day=date(2026, 12, 2))

    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert order.created_at == datetime(2026, 12, 1, 21, 29, 59, 999000, tzinfo=UTC)
    assert response.json()["created_at"] == "2026-12-01T21:29:59.999000Z"


def test_orders_weeks_ahead_are_fine_until_the_limit(canteen, at):
    assert canteen.order([(canteen.juice, 1)], day=date(2026, 12, 21)).status_code == 201
    too_far = canteen.order([(canteen.juice, 1)], day=date(2027, 1, 4))
    assert too_far.status_code == 422 and too_far.json()["code"] == "too_far_ahead"


def test_past_days_are_closed(canteen):
    response = canteen.order([(canteen.juice, 1)], day=date(2026, 11, 27))
    assert response.status_code == 422 and response.json()["code"] == "ordering_closed"


def test_weekends_closures_and_holidays_are_school_closed(canteen):
    SchoolClosureDay.objects.create(school=canteen.school, date=date(2026, 12, 3), reason="Pupil-free day")
    Term.objects.create(school=canteen.school, name="Term 4", starts_on=date(2026, 10, 6), ends_on=date(2026, 12, 18))

    for day in (date(2026, 12, 5), date(2026, 12, 3), date(2026, 12, 21)):  # Saturday, closure, holidays
        response = canteen.order([(canteen.juice, 1)], day=day)
        assert response.status_code == 422, day
        assert response.json()["code"] == "school_closed"
    assert canteen.order([(canteen.juice, 1)], day=date(2026, 12, 4)).status_code == 201


# --- What the child may have --------------------------------------------------


def test_an_order_with_a_declared_allergen_is_refused_naming_items_and_allergens(canteen):
    canteen.guardian_client.patch(
        f"/api/v1/students/{canteen.student.pk}/food-profile", {"allergens": ["peanut", "egg"]}, format="json"
    )

    response = canteen.order([(canteen.satay, 1), (canteen.wrap, 1), (canteen.juice, 1)])

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "allergen_conflict"
    assert sorted((c["name"], tuple(c["allergens"])) for c in body["details"]["conflicts"]) == [
        ("Chicken wrap", ("egg",)),
        ("Satay skewer", ("peanut",)),
    ]
    assert Order.objects.count() == 0
    assert wallet_of(canteen).held == 0


def test_the_allergy_declared_by_one_guardian_protects_orders_by_the_other(canteen, client_for):
    other = GuardianLinkFactory(student=canteen.student)
    give_wallet_money(other.guardian, 2000)
    canteen.guardian_client.patch(f"/api/v1/students/{canteen.student.pk}/food-profile", {"allergens": ["peanut"]}, format="json")

    response = canteen.order([(canteen.satay, 1)], client=client_for(other.guardian.user))

    assert response.json()["code"] == "allergen_conflict"


def test_banned_items_and_categories_are_refused(canteen):
    canteen.guardian_client.patch(
        f"/api/v1/students/{canteen.student.pk}/food-profile", {"banned_categories": ["drink"]}, format="json"
    )
    response = canteen.order([(canteen.juice, 1)])
    assert response.status_code == 422 and response.json()["code"] == "item_banned"


def test_items_not_offered_to_the_child_that_day_are_unavailable(canteen):
    seniors_only = MenuItem.objects.create(school=canteen.school, name="Coffee", price=400, category="drink", year_levels=[11, 12])
    fridays_only = MenuItem.objects.create(school=canteen.school, name="Fish", price=700, category="lunch", weekdays=[4])
    other_school = MenuItem.objects.create(school=StaffFactory().school, name="Pie", price=500, category="lunch")

    for item in (seniors_only, fridays_only, other_school):
        response = canteen.order([(item, 1)])
        assert response.status_code == 422 and response.json()["code"] == "item_unavailable", item.name


def test_the_menu_shows_conflicts_and_bans(canteen):
    canteen.guardian_client.patch(f"/api/v1/students/{canteen.student.pk}/food-profile", {"allergens": ["peanut"]}, format="json")

    response = canteen.guardian_client.get(f"/api/v1/students/{canteen.student.pk}/menu?date=2026-12-02")

    assert response.status_code == 200
    flags = {item["name"]: item["allergen_conflicts"] for item in response.json()["items"]}
    assert flags == {"Apple juice": [], "Chicken wrap": [], "Satay skewer": ["peanut"]}
    assert response.json()["ordering_open"] is True


# --- Money -----------------------------------------------------------------


def test_placing_holds_the_money_and_gives_a_receipt(canteen):
    response = canteen.order([(canteen.wrap, 1), (canteen.juice, 2)])

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["payment_state"], body["total"]) == ("placed", "held", 1250)
    assert body["receipt_number"].startswith(f"C{canteen.school.pk}-20261202-")
    wallet = wallet_of(canteen)
    assert (wallet.balance, wallet.held) == (5000, 1250)
    assert_ledger_consistent()


def test_not_enough_money_is_402_and_writes_nothing(client_for, at):
    with at("2026-11-29T20:00:00Z"):
        canteen = make_canteen(client_for, wallet=500)
        response = canteen.order([(canteen.wrap, 1)])
    assert response.status_code == 402 and response.json()["code"] == "insufficient_funds"
    assert Order.objects.count() == 0


def test_placing_again_under_the_same_reference_returns_the_order_ready_to_render(canteen, django_assert_num_queries):
    def place():
        return orders.order_place(
            link=canteen.link, service_date=WEDNESDAY, lines=[orders.LineRequest(canteen.wrap.pk, 1)], note="", reference="test:same"
        )

    first, again = place(), place()

    assert again.pk == first.pk and Order.objects.count() == 1
    with django_assert_num_queries(0):
        rendered = OrderOutput(again).data
    assert rendered == OrderOutput(first).data
    assert rendered["payment_state"] == "held" and [line["menu_item_id"] for line in rendered["lines"]] == [canteen.wrap.pk]


def test_one_order_per_child_per_day(canteen):
    assert canteen.order([(canteen.juice, 1)]).status_code == 201
    second = canteen.order([(canteen.wrap, 1)])
    assert second.status_code == 409 and second.json()["code"] == "order_exists"
    assert wallet_of(canteen).held == 300


def test_price_changes_do_not_touch_placed_orders(canteen, client_for):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]
    staff = StaffFactory(school=canteen.school, roles=["canteen"])
    client_for(staff.user).patch(f"/api/v1/canteen/menu-items/{canteen.wrap.pk}", {"price": 900, "allergens": ["gluten"]}, format="json")

    order = canteen.guardian_client.get(f"/api/v1/canteen/orders/{order_id}").json()

    assert order["total"] == 650
    assert order["lines"][0]["unit_price"] == 650 and order["lines"][0]["allergens"] == ["gluten", "egg"]


def test_change_before_cutoff_adjusts_the_hold(canteen):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    response = canteen.guardian_client.put(
        f"/api/v1/canteen/orders/{order_id}",
        {"items": [{"item_id": canteen.juice.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code == 200 and response.json()["total"] == 300
    assert wallet_of(canteen).held == 300
    assert Hold.objects.filter(status=HoldStatus.VOIDED).count() == 1


def test_cancel_before_cutoff_releases_everything(canteen):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    response = canteen.guardian_client.post(f"/api/v1/canteen/orders/{order_id}/cancel")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_state"]) == ("cancelled", "released")
    wallet = wallet_of(canteen)
    assert (wallet.balance, wallet.held) == (5000, 0)


def test_after_cutoff_only_staff_can_refund(canteen, at, client_for):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]
    staff = StaffFactory(school=canteen.school, roles=["canteen"])

    with at("2026-12-01T21:30:00Z"):
        cutoff_run(school=canteen.school, service_date=WEDNESDAY)
        late_cancel = client_for(canteen.link.guardian.user).post(f"/api/v1/canteen/orders/{order_id}/cancel")
        refund = client_for(staff.user).post(f"/api/v1/canteen/orders/{order_id}/refund", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert late_cancel.status_code == 422 and late_cancel.json()["code"] == "ordering_closed"
    assert refund.status_code == 200
    assert (refund.json()["status"], refund.json()["payment_state"]) == ("refunded", "refunded")
    wallet = wallet_of(canteen)
    assert (wallet.balance, wallet.held) == (5000, 0)
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 0
    assert_ledger_consistent()


def test_other_families_cannot_see_or_order(canteen, client_for):
    order_id = canteen.order([(canteen.juice, 1)]).json()["id"]
    stranger = client_for(GuardianLinkFactory().guardian.user)
    other_staff = client_for(StaffFactory(roles=["canteen"]).user)

    assert stranger.get(f"/api/v1/canteen/orders/{order_id}").status_code == 404
    assert stranger.post(f"/api/v1/canteen/orders/{order_id}/cancel").status_code == 404
    assert canteen.order([(canteen.juice, 1)], client=stranger).status_code == 404
    assert other_staff.post(f"/api/v1/canteen/orders/{order_id}/refund", HTTP_IDEMPOTENCY_KEY="x").status_code == 404
    assert Order.objects.get(pk=order_id).status == OrderStatus.PLACED

