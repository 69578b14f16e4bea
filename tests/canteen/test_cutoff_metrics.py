"""Pre-orders and cut-off runs as /metrics counts them (core/metrics.py)."""

import pytest

from canteen.cutoff import cutoff_run
from canteen.tasks import run_due_cutoffs
from tests.canteen.conftest import WEDNESDAY
from tests.metrics_scrape import moved, scrape

pytestmark = pytest.mark.django_db


def test_orders_and_cutoff_runs_are_counted_with_the_orders_they_posted(canteen, at):
    before = scrape()
    placed = canteen.order([(canteen.wrap, 1)])
    again = canteen.order([(canteen.juice, 1)])  # one order a child and day: change it instead
    assert (placed.status_code, again.status_code, again.json()["code"]) == (201, 409, "order_exists")
    with at("2026-12-01T21:29:59Z"):
        assert cutoff_run(school=canteen.school, service_date=WEDNESDAY) is None  # not yet: skipped
    with at("2026-12-01T21:30:00Z"):
        assert run_due_cutoffs() == 2  # Tuesday's (no orders) and Wednesday's
    after = scrape()

    decision = {"decision": "order_place"}
    assert moved(before, after, "tuckbox_money_decisions_total", **decision, outcome="accepted", code="") == 1
    assert moved(before, after, "tuckbox_money_decisions_total", **decision, outcome="declined", code="order_exists") == 1
    assert moved(before, after, "tuckbox_batch_runs_total", job="canteen_cutoff", outcome="skipped") == 1
    assert moved(before, after, "tuckbox_batch_runs_total", job="canteen_cutoff", outcome="completed") == 2
    assert moved(before, after, "tuckbox_batch_run_duration_seconds_count", job="canteen_cutoff") == 3
    assert moved(before, after, "tuckbox_batch_items_total", job="canteen_cutoff") == 1
