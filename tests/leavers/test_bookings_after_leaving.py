"""Once a leaving day is set, nothing can be booked for the child on or after it: a pre-order or an
excursion sign-up for that day is refused with `student_left` and writes nothing, while the days
before it stay open (the leaving day's processing cancels only what was booked before it was set)."""

from datetime import date

import pytest
import time_machine

from canteen.models import Order
from core.errors import DomainError
from events.models import Signup
from tests.canteen.conftest import MONDAY_MORNING
from tests.helpers import assert_problem
from tests.leavers.conftest import paid_excursion, wallet_balance

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY, FRIDAY = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 4)


def test_no_pre_order_on_or_after_the_leaving_day(family):
    canteen = family.canteen
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(WEDNESDAY).status_code == 201
        wallet_before = wallet_balance(family.link)

        before = canteen.order([(canteen.juice, 1)], day=TUESDAY)
        on_the_day = canteen.order([(canteen.juice, 1)], day=WEDNESDAY)
        after = canteen.order([(canteen.juice, 1)], day=FRIDAY)

    assert before.status_code == 201, before.content
    assert_problem(on_the_day, 422, "student_left")
    assert_problem(after, 422, "student_left")
    assert list(Order.objects.values_list("service_date", flat=True)) == [TUESDAY]
    assert wallet_balance(family.link) == wallet_before  # only Tuesday's juice is held, not taken


def test_no_sign_up_for_an_event_after_the_leaving_day(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(WEDNESDAY).status_code == 201
        with pytest.raises(DomainError) as refused:
            paid_excursion(family, days_ahead=14)

    assert refused.value.code == "student_left"
    assert Signup.objects.count() == 0


def test_undoing_the_leaving_opens_the_days_again(family):
    canteen = family.canteen
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(WEDNESDAY).status_code == 201
        assert family.admin_client.delete(f"/api/v1/students/{family.student.pk}/leaver").status_code in (200, 204)
        response = canteen.order([(canteen.juice, 1)], day=FRIDAY)

    assert response.status_code == 201, response.content
