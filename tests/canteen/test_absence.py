"""An absence note before the cut-off cancels that day's order; after it, the order stands."""

import pytest

from canteen.models import Order, OrderStatus
from tests.canteen.conftest import WEDNESDAY
from wallet import accounts

pytestmark = pytest.mark.django_db


def report_absence(client, student, first_day, last_day=None):
    return client.post(
        f"/api/v1/students/{student.pk}/absences",
        {"first_day": first_day, "last_day": last_day or first_day, "reason": "illness"},
        format="json",
    )


def test_absence_before_the_cutoff_cancels_the_order_and_releases_the_money(canteen, django_capture_on_commit_callbacks):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = report_absence(canteen.guardian_client, canteen.student, "2026-12-01", "2026-12-03")

    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "absence")
    assert accounts.guardian_wallet(canteen.link.guardian).held == 0


def test_absence_after_the_cutoff_leaves_the_order(canteen, at, client_for, django_capture_on_commit_callbacks):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    with at("2026-12-01T21:31:00Z"), django_capture_on_commit_callbacks(execute=True):
        report_absence(client_for(canteen.link.guardian.user), canteen.student, WEDNESDAY.isoformat())

    assert Order.objects.get(pk=order_id).status == OrderStatus.PLACED


def test_a_failing_receiver_never_turns_the_saved_note_into_a_500(canteen, django_capture_on_commit_callbacks, monkeypatch):
    from canteen import receivers
    from guardians.models import AbsenceNote

    def broken(*args, **kwargs):
        raise RuntimeError("the cancellation failed")

    monkeypatch.setattr(receivers, "order_cancel", broken)
    canteen.order([(canteen.wrap, 1)])

    with django_capture_on_commit_callbacks(execute=True):
        response = report_absence(canteen.guardian_client, canteen.student, "2026-12-01", "2026-12-03")

    assert response.status_code == 201, response.content
    assert AbsenceNote.objects.filter(pk=response.json()["id"]).exists()
