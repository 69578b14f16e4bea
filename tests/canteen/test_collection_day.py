"""An order is collected only on its own service day, in the school's time zone."""

import pytest

from canteen.models import Order, OrderStatus
from tests.canteen.conftest import make_canteen
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def collect(staff, order_id):
    """As the staff member, signed in at the moment of the call (access tokens live 15 minutes)."""
    return staff().post(f"/api/v1/canteen/orders/{order_id}/collect")


@pytest.fixture
def wednesday_order(canteen, client_for):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]
    member = StaffFactory(school=canteen.school, roles=["canteen"])
    return order_id, lambda: client_for(member.user)


@pytest.mark.parametrize(
    "instant",
    [
        "2026-11-29T20:00:00Z",  # Monday 07:00 in Sydney, the day the order was placed
        "2026-12-01T12:59:59Z",  # Tuesday 23:59:59 in Sydney, one second before its day
        "2026-12-02T13:00:00Z",  # Thursday 00:00 in Sydney: its day is over
    ],
)
def test_an_order_cannot_be_collected_on_another_day(wednesday_order, at, instant):
    order_id, staff = wednesday_order

    with at(instant):
        response = collect(staff, order_id)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "collection_not_today" and response["Content-Type"] == "application/problem+json"
    assert body["details"]["service_date"] == "2026-12-02"
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.collected_at) == (OrderStatus.PLACED, None)


def test_an_order_is_collected_from_the_first_second_of_its_local_day(wednesday_order, at):
    order_id, staff = wednesday_order

    with at("2026-12-01T13:00:00Z"):  # Wednesday 00:00 in Sydney, still Tuesday in UTC
        response = collect(staff, order_id)
        again = collect(staff, order_id)

    assert response.status_code == 200 and response.json()["status"] == "fulfilled"
    assert again.status_code == 200 and again.json()["collected_at"] == response.json()["collected_at"] == "2026-12-01T13:00:00Z"


def test_a_not_collected_order_can_be_collected_later_that_day_but_not_the_next(wednesday_order, at):
    order_id, staff = wednesday_order
    with at("2026-12-02T05:00:00Z"):  # Wednesday 16:00: the day is closed, the bag is still there
        assert staff().post("/api/v1/canteen/days/close?date=2026-12-02").status_code == 200
        late_pickup = collect(staff, order_id)
    assert late_pickup.status_code == 200 and late_pickup.json()["status"] == "fulfilled"

    Order.objects.filter(pk=order_id).update(status=OrderStatus.NOT_COLLECTED, collected_at=None)
    with at("2026-12-03T01:00:00Z"):  # Thursday
        assert collect(staff, order_id).json()["code"] == "collection_not_today"
    assert Order.objects.get(pk=order_id).status == OrderStatus.NOT_COLLECTED


def test_the_day_is_the_schools_own(client_for, at):
    with at("2026-11-30T00:00:00Z"):  # Monday 08:00 in Perth (UTC+8, no daylight saving)
        canteen = make_canteen(client_for, time_zone="Australia/Perth")
        order_id = canteen.order([(canteen.juice, 1)]).json()["id"]
    member = StaffFactory(school=canteen.school, roles=["canteen"])
    staff = lambda: client_for(member.user)  # noqa: E731

    with at("2026-12-01T15:00:00Z"):  # Tuesday 23:00 in Perth, already Wednesday in Sydney
        too_early = collect(staff, order_id)
    with at("2026-12-01T16:00:00Z"):  # Wednesday 00:00 in Perth, still Tuesday in UTC
        on_the_day = collect(staff, order_id)

    assert too_early.status_code == 422 and too_early.json()["code"] == "collection_not_today"
    assert on_the_day.status_code == 200 and on_the_day.json()["status"] == "fulfilled"


def test_a_day_cannot_be_closed_before_it_starts(wednesday_order, at):
    order_id, staff = wednesday_order

    with at("2026-12-01T12:59:59Z"):  # Tuesday 23:59:59 in Sydney: Wednesday has not begun
        early = staff().post("/api/v1/canteen/days/close?date=2026-12-02")

    assert early.status_code == 422 and early["Content-Type"] == "application/problem+json"
    assert early.json()["code"] == "day_not_started"
    assert early.json()["details"] == {"service_date": "2026-12-02", "school_today": "2026-12-01"}
    assert Order.objects.get(pk=order_id).status == OrderStatus.PLACED  # nothing marked uncollected
