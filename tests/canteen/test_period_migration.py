"""The migration to service periods: every school gets a default "Lunch" period with its own
cut-off and late window, and its menu items, orders and cut-off runs join it."""

from datetime import time

import pytest
import time_machine

from canteen import cutoff, orders
from canteen.models import CutoffRun, MenuItem, Order, ServicePeriod
from guardians.models import School
from tests.canteen.conftest import MONDAY_MORNING, WEDNESDAY, make_canteen
from tests.factories import SchoolFactory
from tests.migrations import migrate

BEFORE_PERIODS = [("canteen", "0002_order_allergen_alerts")]
WITH_PERIODS = [("canteen", "0005_one_order_per_child_period_day")]
pytestmark = pytest.mark.usefixtures("back_to_the_latest_schema")


@pytest.mark.django_db(transaction=True)
def test_every_school_gets_a_default_lunch_period_that_its_menu_orders_and_runs_join(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for, late_cutoff=time(9, 15))
        no_canteen = SchoolFactory(canteen_cutoff=time(7, 50))
        placed = orders.order_place(
            link=canteen.link, service_date=WEDNESDAY, lines=[orders.LineRequest(canteen.wrap.pk, 1)], note="", reference="migration:1"
        )
    with time_machine.travel("2026-12-01T21:31:00Z", tick=False):
        run = cutoff.cutoff_run(school=canteen.school, service_date=WEDNESDAY)

    migrate(BEFORE_PERIODS)
    migrate(WITH_PERIODS)

    periods = {period.school_id: period for period in ServicePeriod.objects.all()}
    assert set(periods) == set(School.objects.values_list("pk", flat=True))
    lunch, other = periods[canteen.school.pk], periods[no_canteen.pk]
    assert (lunch.name, lunch.cutoff, lunch.late_cutoff, lunch.is_default) == ("Lunch", time(8, 30), time(9, 15), True)
    assert (other.name, other.cutoff, other.late_cutoff, other.is_default) == ("Lunch", time(7, 50), None, True)
    assert Order.objects.get(pk=placed.pk).period_id == lunch.pk
    assert CutoffRun.objects.get(pk=run.pk).period_id == lunch.pk
    assert {item.name: list(item.periods.values_list("pk", flat=True)) for item in MenuItem.objects.all()} == {
        "Chicken wrap": [lunch.pk],
        "Satay skewer": [lunch.pk],
        "Apple juice": [lunch.pk],
    }
