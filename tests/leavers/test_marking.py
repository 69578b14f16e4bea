"""Marking a leaver: the card closes, its balance goes back to the wallets that funded it, and what lay
ahead (canteen orders, event sign-ups) is cancelled and refunded through the apps' own services."""

import uuid
from datetime import date, timedelta

import pytest
import time_machine

from audit.models import AuditEntry
from canteen.models import Order, OrderStatus
from events.models import SignupStatus
from guardians.leavers import leavers_process_due
from guardians.leavers_models import StudentLeaver
from guardians.tasks import leavers_sweep
from tests.canteen.conftest import MONDAY_MORNING
from tests.factories import StaffFactory
from tests.helpers import assert_problem
from tests.leavers.conftest import MONDAY, card_balance, paid_excursion, wallet_balance
from tests.wallet.conftest import assert_ledger_consistent
from wallet.models import CardStatus, LedgerTransaction
from wallet.reconciliation import find_balance_mismatches, find_held_mismatches, find_unbalanced_transactions

pytestmark = pytest.mark.django_db



def ledger_reconciles() -> bool:
    """The nightly reconciliation's ledger checks (the processor check needs real top-ups: tests/leavers/test_withdrawal.py)."""
    return find_unbalanced_transactions() == find_balance_mismatches() == find_held_mismatches() == []


TUESDAY, WEDNESDAY, FRIDAY = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 4)
TUESDAY_0900 = "2026-11-30T22:00:00Z"  # 09:00 in Sydney, after the 08:30 cut-off


def test_leaving_today_closes_the_card_and_returns_its_balance_to_the_funders_in_proportion(family):
    assert family.charge(300).status_code == 201  # 3000 funded (2000 + 1000), 2700 left
    first_before, second_before = wallet_balance(family.link), wallet_balance(family.other_link)

    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = family.mark(MONDAY)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "left" and body["leaving_on"] == "2026-11-30" and body["reason"] == "moved"
    assert body["processed_at"] is not None and body["retain_until"] == "2026-12-30"  # 30 days in these tests
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.CLOSED
    assert card_balance(family.student) == 0
    assert wallet_balance(family.link) == first_before + 1800
    assert wallet_balance(family.other_link) == second_before + 900
    returned = LedgerTransaction.objects.get(kind="leaver_card_return")
    legs = sorted((entry.account.kind, entry.amount) for entry in returned.entries.select_related("account"))
    assert legs == [("guardian_wallet", 900), ("guardian_wallet", 1800), ("student_card", -2700)]
    assert returned.metadata == {"student_id": family.student.pk, "leaver_id": body["id"]}
    assert_ledger_consistent()
    assert ledger_reconciles()


def test_a_closed_card_is_declined_at_the_terminal(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(MONDAY).status_code == 201
        assert_problem(family.charge(100), 402, "card_frozen")
    assert card_balance(family.student) == 0


def test_odd_cents_go_to_the_larger_funder_and_no_cent_is_lost(client_for, terminal_client):
    from tests.leavers.conftest import make_family

    with time_machine.travel(MONDAY_MORNING, tick=False):
        family = make_family(client_for, terminal_client, first_funds=200, second_funds=100)
        assert family.charge(199).status_code == 201  # 101 left: 67.33 and 33.67
        first, second = wallet_balance(family.link), wallet_balance(family.other_link)
        assert family.mark(MONDAY).status_code == 201
    assert (wallet_balance(family.link) - first, wallet_balance(family.other_link) - second) == (67, 34)
    assert card_balance(family.student) == 0
    assert_ledger_consistent()


def test_future_orders_and_sign_ups_are_cancelled_and_refunded_and_the_past_is_left_alone(family):
    canteen = family.canteen
    with time_machine.travel(MONDAY_MORNING, tick=False):
        orders = {day: canteen.order([(canteen.juice, 1)], day=day) for day in (MONDAY, TUESDAY, WEDNESDAY)}
        assert all(response.status_code == 201 for response in orders.values()), orders
        signup = paid_excursion(family)
    assert signup.status == SignupStatus.CONFIRMED and signup.amount_paid == 2500
    wallet_before = wallet_balance(family.link)

    with time_machine.travel(TUESDAY_0900, tick=False):  # Tuesday's cut-off has passed, Wednesday's has not
        response = family.mark(TUESDAY)

    assert response.status_code == 201, response.content
    status = {day: Order.objects.get(pk=orders[day].json()["id"]).status for day in orders}
    assert status == {MONDAY: OrderStatus.PLACED, TUESDAY: OrderStatus.REFUNDED, WEDNESDAY: OrderStatus.CANCELLED}
    assert Order.objects.get(pk=orders[WEDNESDAY].json()["id"]).cancel_reason == "leaver"
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CANCELLED
    assert signup.refunded_amount == 2500 and signup.refund_transaction is not None
    # Excursion refunded in full, the card's share back; holds released: only Monday's juice is still held.
    assert wallet_balance(family.link) == wallet_before + 2500 + 2000
    from wallet import accounts

    assert accounts.guardian_wallet(family.link.guardian).held == canteen.juice.price
    assert_ledger_consistent()
    assert ledger_reconciles()


def test_a_leaving_day_ahead_waits_for_the_day_and_the_sweep_processes_it(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = family.mark(FRIDAY)
        assert response.status_code == 201 and response.json()["status"] == "scheduled"
        assert family.charge(100).status_code == 201
    with time_machine.travel("2026-12-03T12:59:00Z", tick=False):  # Thursday 23:59 in Sydney
        assert leavers_sweep() == {"processed": 0, "deidentified": 0}
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.ACTIVE
    with time_machine.travel("2026-12-03T13:23:00Z", tick=False):  # Friday 00:23 in Sydney
        assert leavers_sweep() == {"processed": 1, "deidentified": 0}
        assert leavers_process_due() == 0  # a second run finds nothing to do
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.CLOSED
    assert card_balance(family.student) == 0
    assert LedgerTransaction.objects.filter(kind="leaver_card_return").count() == 1
    assert StudentLeaver.objects.get().processed_at is not None


def test_undo_before_the_day_and_not_after(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(FRIDAY).status_code == 201
        undone = family.admin_client.delete(f"/api/v1/students/{family.student.pk}/leaver")
        assert undone.status_code == 200 and undone.json()["status"] == "undone"
        assert_problem(family.admin_client.get(f"/api/v1/students/{family.student.pk}/leaver"), 404, "leaver_not_found")
        assert_problem(family.admin_client.delete(f"/api/v1/students/{family.student.pk}/leaver"), 404, "leaver_not_found")
        assert family.mark(FRIDAY).status_code == 201  # decided again
    with time_machine.travel("2026-12-03T13:00:00Z", tick=False):  # Friday has begun in Sydney, sweep or no sweep
        assert_problem(family.admin_client.delete(f"/api/v1/students/{family.student.pk}/leaver"), 409, "leaver_already_left")
    assert leavers_process_due() == 0  # the clock is back before Friday
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.ACTIVE
    assert StudentLeaver.objects.filter(undone_at__isnull=False).count() == 1


def test_replaying_the_key_returns_the_decision_once_and_a_second_decision_is_a_conflict(family):
    key = uuid.uuid4().hex
    with time_machine.travel(MONDAY_MORNING, tick=False):
        first = family.mark(MONDAY, key=key)
        again = family.mark(MONDAY, key=key)
        assert_problem(family.mark(MONDAY, key=uuid.uuid4().hex), 409, "student_already_leaving")
        assert_problem(family.mark(FRIDAY), 409, "student_already_leaving")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert StudentLeaver.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="leaver_card_return").count() == 1


def test_the_leaving_date_is_bounded(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        problem = assert_problem(family.mark(MONDAY - timedelta(days=31)), 422, "leaving_date_invalid")
        assert problem["details"] == {"earliest": "2026-10-31", "latest": "2028-01-04"}
        assert_problem(family.mark(MONDAY + timedelta(days=401)), 422, "leaving_date_invalid")
        assert family.admin_client.post(f"/api/v1/students/{family.student.pk}/leaver", {"leaving_on": "soon"}, format="json").status_code == 400
    assert not StudentLeaver.objects.exists()


def test_only_the_students_own_school_admins_may_mark(family, client_for):
    other_admin = StaffFactory(roles=["admin"])  # another school
    teacher = StaffFactory(school=family.canteen.school, roles=["teacher", "canteen", "finance"])
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert_problem(family.mark(MONDAY, client=client_for(other_admin.user)), 404, "not_found")
        assert_problem(client_for(other_admin.user).get(f"/api/v1/students/{family.student.pk}/leaver"), 404, "not_found")
        assert_problem(client_for(other_admin.user).delete(f"/api/v1/students/{family.student.pk}/leaver"), 404, "not_found")
        assert_problem(family.mark(MONDAY, client=client_for(teacher.user)), 403, "permission_denied")
        assert_problem(family.mark(MONDAY, client=family.canteen.guardian_client), 403, "permission_denied")
    assert not StudentLeaver.objects.exists()
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.ACTIVE


def test_marking_and_processing_are_in_the_schools_audit_log(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        leaver_id = family.mark(MONDAY).json()["id"]
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(school_id=family.canteen.school.pk)}
    mark = entries["student.leaver_mark"]
    assert mark.actor_user_id == family.admin.user_id and mark.object_id == str(family.student.pk)
    assert mark.after == {"leaving_on": "2026-11-30", "reason": "moved", "retain_until": "2026-12-30"}
    assert entries["card.leaver_close"].details["returned_to_wallets"] and entries["card.leaver_close"].actor_kind == "system"
    assert entries["student.leaver_process"].details["leaver_id"] == leaver_id


def test_a_leavers_closed_card_takes_no_more_money_and_the_guardian_keeps_it(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert family.mark(MONDAY).status_code == 201
        before = wallet_balance(family.link)
        response = family.canteen.guardian_client.post(
            f"/api/v1/students/{family.student.pk}/card/fund", {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
    assert_problem(response, 409, "card_state_invalid")
    assert wallet_balance(family.link) == before and card_balance(family.student) == 0
