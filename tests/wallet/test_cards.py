"""Student cards through the API: funding, controls, charges, declines, refunds, freezing, replacement."""

import uuid
from datetime import timedelta

import pytest
import time_machine

from core import clock
from core.models import Notification
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    StaffFactory,
    StudentFactory,
    give_card_money,
    give_wallet_money,
)
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardCharge, CardStatus, Entry, LedgerTransaction, SpendingControls, StudentCard

pytestmark = pytest.mark.django_db


def post(client, url, body=None, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key or uuid.uuid4().hex}
    return client.post(url, body or {}, format="json", **headers)


def charge(world, amount, categories=None, key=None, card_number=None):
    body = {"card_identifier": card_number or world.card_number, "amount": amount, "categories": categories or ["canteen"]}
    return post(world.terminal_client, "/api/v1/terminal/charges", body, key)


def card_balance(student):
    return accounts.student_card_account(student).balance


# --- Funding ----------------------------------------------------------------


def test_guardian_funds_card_from_wallet(card_world):
    give_wallet_money(card_world.link.guardian, 5000)

    response = post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/fund", {"amount": 2000})

    assert response.status_code == 201, response.content
    assert response.json()["wallet_balance"] == 3000
    assert response.json()["card_balance"] == 2000
    posted = LedgerTransaction.objects.get(pk=response.json()["transaction_id"])
    assert sorted(posted.entries.values_list("amount", flat=True)) == [-2000, 2000]
    assert_ledger_consistent()


def test_funding_more_than_the_wallet_holds_is_refused_and_writes_nothing(card_world):
    give_wallet_money(card_world.link.guardian, 1000)
    before = LedgerTransaction.objects.count()

    response = post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/fund", {"amount": 1001})

    assert response.status_code == 402
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_funds"
    assert LedgerTransaction.objects.count() == before
    assert accounts.guardian_wallet(card_world.link.guardian).balance == 1000


def test_withdraw_moves_card_money_back_to_the_wallet(card_world):
    give_card_money(card_world.student, 800)

    response = post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/withdraw", {"amount": 300})

    assert response.status_code == 201
    assert (response.json()["wallet_balance"], response.json()["card_balance"]) == (300, 500)
    assert_ledger_consistent()


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, None, 10**12])
def test_bad_amounts_are_400_and_write_nothing(card_world, amount):
    give_wallet_money(card_world.link.guardian, 5000)
    before = Entry.objects.count()

    response = post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/fund", {"amount": amount})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] == "amount"
    assert Entry.objects.count() == before


def test_money_endpoints_require_an_idempotency_key(card_world):
    give_wallet_money(card_world.link.guardian, 5000)
    response = card_world.guardian_client.post(
        f"/api/v1/students/{card_world.student.pk}/card/fund", {"amount": 100}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert card_balance(card_world.student) == 0


def test_a_retried_fund_moves_money_once(card_world):
    give_wallet_money(card_world.link.guardian, 5000)
    url = f"/api/v1/students/{card_world.student.pk}/card/fund"

    first = post(card_world.guardian_client, url, {"amount": 700}, key="fund-1")
    second = post(card_world.guardian_client, url, {"amount": 700}, key="fund-1")

    assert first.content == second.content
    assert card_balance(card_world.student) == 700


def test_guardian_without_money_permission_cannot_fund(client_for):
    link = GuardianLinkFactory(can_manage_money=False)
    give_wallet_money(link.guardian, 5000)

    response = post(client_for(link.guardian.user), f"/api/v1/students/{link.student.pk}/card/fund", {"amount": 100})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_missing"


def test_guardian_cannot_touch_another_familys_card(card_world, client_for):
    stranger = GuardianLinkFactory()
    give_wallet_money(stranger.guardian, 5000)
    client = client_for(stranger.guardian.user)

    for path in ("card/fund", "card/withdraw"):
        response = post(client, f"/api/v1/students/{card_world.student.pk}/{path}", {"amount": 100})
        assert response.status_code == 404
    assert client.patch(f"/api/v1/students/{card_world.student.pk}/card/controls", {"daily_cap": 1}, format="json").status_code == 404
    assert post(client, f"/api/v1/students/{card_world.student.pk}/card/freeze").status_code == 404


# --- Controls ---------------------------------------------------------------


def test_both_guardians_share_one_set_of_controls(card_world, client_for):
    second = GuardianLinkFactory(student=card_world.student)

    response = card_world.guardian_client.patch(
        f"/api/v1/students/{card_world.student.pk}/card/controls",
        {"daily_cap": 400, "weekly_cap": 1500, "banned_categories": ["uniform_shop"]},
        format="json",
    )
    assert response.status_code == 200
    response = client_for(second.guardian.user).patch(
        f"/api/v1/students/{card_world.student.pk}/card/controls", {"daily_cap": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["daily_cap"] is None
    assert response.json()["weekly_cap"] == 1500
    controls = SpendingControls.objects.get(student=card_world.student)
    assert (controls.daily_cap, controls.weekly_cap, controls.banned_categories) == (None, 1500, ["uniform_shop"])


def test_unknown_category_is_refused(card_world):
    response = card_world.guardian_client.patch(
        f"/api/v1/students/{card_world.student.pk}/card/controls", {"banned_categories": ["lollies"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "banned_categories[0]"


# --- Charges ----------------------------------------------------------------


def test_approved_charge_shows_the_cashier_only_what_they_may_see(card_world):
    give_card_money(card_world.student, 1500)

    response = charge(card_world, 350)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["remaining_balance"] == 1150
    assert body["student"] == {
        "first_name": card_world.student.first_name,
        "last_initial": card_world.student.last_name[0],
        "year_level": card_world.student.year_level,
    }
    assert "last_name" not in body["student"] and "date_of_birth" not in str(body)
    charge_row = CardCharge.objects.get(pk=body["charge_id"])
    entries = {entry.account.kind: entry.amount for entry in charge_row.transaction.entries.select_related("account")}
    assert entries == {"student_card": -350, "merchant_payable": 350}
    assert_ledger_consistent()


def test_the_card_identifier_is_not_stored_in_the_clear(card_world):
    card = StudentCard.objects.get(pk=card_world.card.pk)
    assert "CARD" not in card.identifier_hash and len(card.identifier_hash) == 64
    assert card.identifier_last4 == "0042"


@pytest.mark.parametrize(
    ("setup", "expected_code"),
    [
        ("no_money", "insufficient_funds"),
        ("frozen", "card_frozen"),
        ("lost", "card_frozen"),
        ("banned", "category_banned"),
        ("unknown", "unknown_card"),
        ("daily_cap", "daily_cap_exceeded"),
        ("weekly_cap", "weekly_cap_exceeded"),
    ],
)
def test_declines_carry_a_stable_code_and_write_nothing(card_world, setup, expected_code):
    if setup != "no_money":
        give_card_money(card_world.student, 5000)
    controls = SpendingControls.objects.create(student=card_world.student)
    if setup in ("frozen", "lost"):
        StudentCard.objects.filter(pk=card_world.card.pk).update(status=setup)
    if setup == "banned":
        controls.banned_categories = ["canteen"]
    if setup == "daily_cap":
        controls.daily_cap = 300
    if setup == "weekly_cap":
        controls.weekly_cap = 300
    controls.save()
    before = (LedgerTransaction.objects.count(), card_balance(card_world.student))

    response = charge(card_world, 350, card_number="NOPE-1234" if setup == "unknown" else None)

    assert response.status_code == 402
    assert response.json()["code"] == expected_code
    assert (LedgerTransaction.objects.count(), card_balance(card_world.student)) == before
    assert CardCharge.objects.count() == 0


def test_caps_count_refunds_back_and_reset_the_next_school_day(card_world):
    give_card_money(card_world.student, 5000)
    SpendingControls.objects.create(student=card_world.student, daily_cap=500)
    # 10:00 Sydney time on a Wednesday.
    with time_machine.travel("2026-11-25T23:00:00Z", tick=False):
        first = charge(card_world, 400)
        assert charge(card_world, 200).json()["code"] == "daily_cap_exceeded"
        refund = post(card_world.terminal_client, f"/api/v1/terminal/charges/{first.json()['charge_id']}/refunds", {"amount": 100})
        assert refund.status_code == 201
        assert charge(card_world, 200).status_code == 201
    # Midnight in Sydney is 13:00 UTC: a new school day.
    with time_machine.travel("2026-11-26T13:00:00Z", tick=False):
        assert charge(card_world, 500).status_code == 201


def test_a_retried_charge_is_charged_once(card_world):
    give_card_money(card_world.student, 1000)

    first = charge(card_world, 300, key="till-7-sale-1")
    second = charge(card_world, 300, key="till-7-sale-1")

    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert card_balance(card_world.student) == 700


def test_terminal_sees_only_its_own_merchants_charges(card_world, terminal_client):
    give_card_money(card_world.student, 1000)
    charge(card_world, 300)
    other = terminal_client(MerchantFactory())

    assert other.get("/api/v1/terminal/charges").json()["results"] == []
    mine = card_world.terminal_client.get("/api/v1/terminal/charges").json()["results"]
    assert [(c["amount"], c["card_last4"]) for c in mine] == [(300, "0042")]


# --- Refunds ----------------------------------------------------------------


def test_partial_then_full_refund_restores_the_card(card_world):
    give_card_money(card_world.student, 1000)
    charge_id = charge(card_world, 600).json()["charge_id"]
    url = f"/api/v1/terminal/charges/{charge_id}/refunds"

    partial = post(card_world.terminal_client, url, {"amount": 200})
    rest = post(card_world.terminal_client, url, {})
    too_much = post(card_world.terminal_client, url, {"amount": 1})

    assert (partial.status_code, rest.status_code) == (201, 201)
    assert rest.json()["amount"] == 400 and rest.json()["charge_refunded_amount"] == 600
    assert too_much.status_code == 422 and too_much.json()["code"] == "refund_exceeds_charge"
    assert card_balance(card_world.student) == 1000
    reversal = LedgerTransaction.objects.filter(reverses__card_charge__pk=charge_id)
    assert reversal.count() == 2
    assert_ledger_consistent()


def test_refund_of_another_merchants_charge_is_404(card_world, terminal_client):
    give_card_money(card_world.student, 1000)
    charge_id = charge(card_world, 600).json()["charge_id"]

    response = post(terminal_client(MerchantFactory()), f"/api/v1/terminal/charges/{charge_id}/refunds", {})

    assert response.status_code == 404
    assert response.json()["code"] == "charge_not_found"


def test_refund_window_closes(card_world):
    give_card_money(card_world.student, 1000)
    charge_id = charge(card_world, 600).json()["charge_id"]

    with time_machine.travel(clock.now() + timedelta(days=31)):
        response = post(card_world.terminal_client, f"/api/v1/terminal/charges/{charge_id}/refunds", {})

    assert response.status_code == 422
    assert response.json()["code"] == "refund_window_closed"


def test_merchant_sees_what_it_will_be_paid(card_world):
    give_card_money(card_world.student, 1000)
    charge(card_world, 600)
    assert card_world.terminal_client.get("/api/v1/terminal/balance").json()["payable_balance"] == 600


# --- Freeze, lose, replace --------------------------------------------------


def test_freeze_stops_charges_and_unfreeze_restores_them(card_world):
    give_card_money(card_world.student, 1000)
    url = f"/api/v1/students/{card_world.student.pk}/card"

    assert post(card_world.guardian_client, f"{url}/freeze").json()["status"] == "frozen"
    assert post(card_world.guardian_client, f"{url}/freeze").status_code == 200  # harmless twice
    assert charge(card_world, 100).json()["code"] == "card_frozen"
    assert post(card_world.guardian_client, f"{url}/unfreeze").json()["status"] == "active"
    assert charge(card_world, 100).status_code == 201


def test_lost_card_is_replaced_and_keeps_the_balance(card_world, client_for):
    give_card_money(card_world.student, 1000)
    staff = StaffFactory(school=card_world.student.school, roles=["canteen"])

    lost = post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/report-lost")
    assert lost.json()["status"] == "lost"
    assert post(card_world.guardian_client, f"/api/v1/students/{card_world.student.pk}/card/unfreeze").status_code == 409
    issued = client_for(staff.user).post(
        f"/api/v1/students/{card_world.student.pk}/cards", {"identifier": "NEW-CARD-7777"}, format="json"
    )

    assert issued.status_code == 201 and issued.json()["status"] == "active"
    assert charge(card_world, 100).json()["code"] == "card_frozen"
    replacement = charge(card_world, 100, card_number="NEW-CARD-7777")
    assert replacement.status_code == 201 and replacement.json()["remaining_balance"] == 900


def test_issuing_a_card_replaces_the_live_one(card_world, client_for):
    staff = StaffFactory(school=card_world.student.school, roles=["admin"])

    client_for(staff.user).post(f"/api/v1/students/{card_world.student.pk}/cards", {"identifier": "NEW-CARD-8888"}, format="json")

    statuses = dict(StudentCard.objects.filter(student=card_world.student).values_list("identifier_last4", "status"))
    assert statuses == {"0042": CardStatus.REPLACED, "8888": CardStatus.ACTIVE}


def test_card_issue_permissions(card_world, client_for):
    teacher = StaffFactory(school=card_world.student.school, roles=["teacher"])
    other_school_admin = StaffFactory(roles=["admin"])
    url = f"/api/v1/students/{card_world.student.pk}/cards"

    assert client_for(teacher.user).post(url, {"identifier": "X-1234567"}, format="json").status_code == 403
    assert client_for(other_school_admin.user).post(url, {"identifier": "X-1234567"}, format="json").status_code == 404


def test_a_card_number_cannot_be_issued_twice(client_for):
    staff = StaffFactory(roles=["admin"])
    first, second = StudentFactory(school=staff.school), StudentFactory(school=staff.school)
    client = client_for(staff.user)

    client.post(f"/api/v1/students/{first.pk}/cards", {"identifier": "SAME-0001"}, format="json")
    response = client.post(f"/api/v1/students/{second.pk}/cards", {"identifier": "same 0001"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "card_identifier_taken"


def test_a_refund_key_cannot_refund_a_second_charge(card_world):
    give_card_money(card_world.student, 1000)
    first = charge(card_world, 300).json()["charge_id"]
    second = charge(card_world, 300).json()["charge_id"]

    a = post(card_world.terminal_client, f"/api/v1/terminal/charges/{first}/refunds", {}, key="refund-key")
    b = post(card_world.terminal_client, f"/api/v1/terminal/charges/{second}/refunds", {}, key="refund-key-2")

    assert (a.json()["charge_id"], b.json()["charge_id"]) == (first, second)
    assert card_balance(card_world.student) == 1000


def test_refunding_a_fully_refunded_charge_says_nothing_is_left(card_world):
    give_card_money(card_world.student, 1000)
    charge_id = charge(card_world, 300).json()["charge_id"]
    post(card_world.terminal_client, f"/api/v1/terminal/charges/{charge_id}/refunds", {})

    again = post(card_world.terminal_client, f"/api/v1/terminal/charges/{charge_id}/refunds", {})

    assert again.status_code == 422
    assert again.json()["code"] == "refund_exceeds_charge"
    assert again.json()["details"] == {"refundable": 0}


def test_low_balance_notice_is_once_per_school_day(card_world, django_capture_on_commit_callbacks):
    give_card_money(card_world.student, 2000)
    SpendingControls.objects.create(student=card_world.student, low_balance_threshold=1000)
    # Sydney: 08:00 and 14:00 on the same school day straddle midnight UTC.
    with time_machine.travel("2026-11-25T21:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        assert charge(card_world, 1500).status_code == 201
    with time_machine.travel("2026-11-26T03:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        give_card_money(card_world.student, 2000)
        assert charge(card_world, 2000).status_code == 201

    assert Notification.objects.filter(kind="low_balance").count() == 1
