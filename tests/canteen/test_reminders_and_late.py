"""The reminder before the cut-off, and the late window."""

from datetime import date, time

import pytest

from canteen.models import ReminderOptIn
from canteen.tasks import send_cutoff_reminders
from core.models import Notification
from tests.canteen.conftest import make_canteen

pytestmark = pytest.mark.django_db


def test_opted_in_guardians_are_reminded_once_when_a_child_has_no_order(client_for, at):
    with at("2026-12-01T19:00:00Z"):  # Wednesday 06:00 in Sydney
        canteen = make_canteen(client_for)
        ReminderOptIn.objects.create(guardian=canteen.link.guardian)
    with at("2026-12-01T20:45:00Z"):  # 07:45, inside the hour before the 08:30 cut-off
        assert send_cutoff_reminders() == 1
        assert send_cutoff_reminders() == 0
    notice = Notification.objects.get(kind="canteen_reminder")
    assert notice.user == canteen.link.guardian.user


def test_no_reminder_when_ordered_or_not_opted_in(client_for, at):
    with at("2026-12-01T19:00:00Z"):
        canteen = make_canteen(client_for)
        ReminderOptIn.objects.create(guardian=canteen.link.guardian)
        assert canteen.order([(canteen.juice, 1)], day=date(2026, 12, 2)).status_code == 201
        other = make_canteen(client_for)  # a second school whose guardian did not opt in
    with at("2026-12-01T20:45:00Z"):
        assert send_cutoff_reminders() == 0
    assert not Notification.objects.filter(user=other.link.guardian.user).exists()


def test_late_window_takes_late_menu_items_only_and_charges_at_once(client_for, at):
    with at("2026-12-01T19:00:00Z"):
        canteen = make_canteen(client_for, late_cutoff=time(9, 30))
        canteen.juice.late_menu = True
        canteen.juice.save()
    with at("2026-12-01T21:45:00Z"):  # 08:45: after the cut-off, inside the late window
        guardian = client_for(canteen.link.guardian.user)
        wrap = canteen.order([(canteen.wrap, 1)], client=guardian)
        juice = canteen.order([(canteen.juice, 1)], client=guardian)
    with at("2026-12-01T22:30:00Z"):  # 09:30: the late window has closed too
        closed = canteen.order([(canteen.juice, 1)], client=client_for(canteen.link.guardian.user))

    assert wrap.status_code == 422 and wrap.json()["code"] == "item_unavailable"
    assert juice.status_code == 201
    assert (juice.json()["late"], juice.json()["payment_state"]) == (True, "charged")
    assert closed.status_code == 422 and closed.json()["code"] == "ordering_closed"
