"""Stock limits hold under concurrency, on PostgreSQL."""

import uuid
from collections import Counter

import pytest
import time_machine
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from canteen.models import DailyStock, Order
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from tests.concurrency import run_concurrently
from tests.factories import GuardianLinkFactory, give_wallet_money
from tests.wallet.conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_guardians_race_for_the_last_ten(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for)
        canteen.wrap.daily_stock_limit = 10
        canteen.wrap.save()
        tokens = []
        for _ in range(50):
            link = GuardianLinkFactory(student__school=canteen.school, student__year_level=4)
            give_wallet_money(link.guardian, 1000)
            tokens.append((link.student.pk, tokens_for_new_session(link.guardian.user)["access"]))

    def order(i):
        student_id, token = tokens[i]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        with time_machine.travel(MONDAY_MORNING, tick=True):
            response = client.post(
                f"/api/v1/students/{student_id}/orders",
                {"service_date": "2026-12-02", "items": [{"item_id": canteen.wrap.pk, "quantity": 1}]},
                format="json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
        return response.status_code, response.json().get("code")

    outcomes = Counter(run_concurrently(order, 50))

    assert outcomes == Counter({(201, None): 10, (409, "out_of_stock"): 40})
    assert Order.objects.count() == 10
    assert DailyStock.objects.get(menu_item=canteen.wrap).ordered == 10
    assert_ledger_consistent()
