"""An allergy declared while orders are being placed: every order is refused or flagged, none slips through. PostgreSQL."""

import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from canteen.models import Order
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)
# Tuesday 1 December 2026 onwards: twelve school days, each open for ordering on Monday morning.
DAYS = [day for day in (date(2026, 12, 1) + timedelta(days=n) for n in range(18)) if day.weekday() < 5][:12]


def test_orders_racing_a_new_allergy_are_each_refused_or_flagged(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for, wallet=100_000)
        token = tokens_for_new_session(canteen.link.guardian.user)["access"]
        # The profile row exists before the race, as it does once a child has ordered or been looked at.
        assert canteen.guardian_client.get(f"/api/v1/students/{canteen.student.pk}/food-profile").status_code == 200

    def act(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        with time_machine.travel(MONDAY_MORNING, tick=True):
            if i == len(DAYS):
                response = client.patch(f"/api/v1/students/{canteen.student.pk}/food-profile", {"allergens": ["peanut"]}, format="json")
                return "profile", response.status_code, None
            response = client.post(
                f"/api/v1/students/{canteen.student.pk}/orders",
                {"service_date": DAYS[i].isoformat(), "items": [{"item_id": canteen.satay.pk, "quantity": 1}]},
                format="json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
            return "order", response.status_code, response.json().get("code")

    outcomes = Counter(run_concurrently(act, len(DAYS) + 1))

    assert outcomes[("profile", 200, None)] == 1
    placed, refused = outcomes[("order", 201, None)], outcomes[("order", 422, "allergen_conflict")]
    assert placed + refused == len(DAYS)
    orders = list(Order.objects.filter(student=canteen.student))
    assert len(orders) == placed
    satay = {"menu_item_id": canteen.satay.pk, "name": "Satay skewer", "allergens": ["peanut"]}
    assert [order.allergen_alerts for order in orders] == [[satay]] * placed
