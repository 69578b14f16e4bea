"""Balances and statements: newest first with running balances, CSV export, and who may read what."""

import base64
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from api.pagination import CursorPage
from core.money import format_dollars
from guardians.models import StaffRole
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    MerchantFactory,
    StaffFactory,
    StudentCardFactory,
    give_card_money,
    give_wallet_money,
)
from tests.helpers import assert_problem
from wallet import accounts, cards, ledger, selectors
from wallet.models import CardCharge, Entry, LedgerTransaction, SpendingControls
from wallet.terminal_keys import terminal_create

pytestmark = pytest.mark.django_db

CARD_NUMBER = "CARD-7700-0042"
# Wednesday 25 November 2026, 10:00 in Sydney (AEDT, UTC+11).
WEDNESDAY_MORNING = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


@pytest.fixture
def family():
    """A guardian linked to a student who has a card, and a canteen terminal at the school."""
    link = GuardianLinkFactory()
    card = StudentCardFactory(student=link.student, identifier=CARD_NUMBER)
    terminal, _ = terminal_create(merchant=MerchantFactory(school=link.student.school), label="Counter")
    return link, card, terminal


def fund(link, amount):
    return cards.card_fund(link=link, amount=amount, reference=f"test:{uuid.uuid4().hex}")


def charge(terminal, amount, description="Snack", categories=("canteen",)):
    return cards.card_charge(
        terminal=terminal,
        card_identifier=CARD_NUMBER,
        amount=amount,
        categories=list(categories),
        description=description,
        idempotency_key=uuid.uuid4().hex,
    ).charge


def refund(terminal, charge_id, amount=None):
    return cards.card_charge_refund(terminal=terminal, charge_id=charge_id, amount=amount, idempotency_key=uuid.uuid4().hex)


def read_pages(client, url):
    """Follow `next` to the end; returns every entry and the number of pages."""
    entries, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        entries += body["results"]
        pages += 1
        url = body["next"]
    return entries, pages


def parse_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- Wallet ------------------------------------------------------------------


def test_wallet_balance(client_for):
    guardian = GuardianFactory()
    give_wallet_money(guardian, 2500)

    response = client_for(guardian.user).get("/api/v1/wallet")

    assert response.status_code == 200
    assert response.json() == {"balance": 2500, "held": 0, "available": 2500, "currency": "AUD"}


def test_wallet_held_counts_only_unexpired_holds(client_for):
    guardian = GuardianFactory()
    wallet = give_wallet_money(guardian, 2500)
    merchant_account = accounts.merchant_payable(MerchantFactory())
    with time_machine.travel(WEDNESDAY_MORNING, tick=False) as traveller:
        with transaction.atomic():
            locked = ledger.lock_accounts([wallet.pk, merchant_account.pk])
            for amount, minutes in ((300, 5), (200, 60)):
                ledger.hold_place_locked(
                    accounts=locked,
                    account_id=wallet.pk,
                    counterparty_id=merchant_account.pk,
                    amount=amount,
                    kind="test_hold",
                    reference=f"hold:{uuid.uuid4().hex}",
                    expires_at=WEDNESDAY_MORNING + timedelta(minutes=minutes),
                )
        client = client_for(guardian.user)
        assert client.get("/api/v1/wallet").json() == {"balance": 2500, "held": 500, "available": 2000, "currency": "AUD"}

        # The first hold lapses; the cached `held` keeps it until the next write, the reader does not.
        traveller.shift(timedelta(minutes=10))
        assert client.get("/api/v1/wallet").json() == {"balance": 2500, "held": 200, "available": 2300, "currency": "AUD"}


def test_wallet_is_for_guardians_only(client_for):
    staff = StaffFactory(roles=[StaffRole.FINANCE])
    client = client_for(staff.user)
    for url in ("/api/v1/wallet", "/api/v1/wallet/statement", "/api/v1/wallet/statement.csv"):
        assert_problem(client.get(url), 403, "permission_denied")


def test_wallet_needs_authentication(api_client):
    assert_problem(api_client.get("/api/v1/wallet"), 401, "not_authenticated")
    assert_problem(api_client.get("/api/v1/wallet/statement.csv"), 401, "not_authenticated")


# --- Statements --------------------------------------------------------------


def test_wallet_statement_pages_newest_first_with_running_balances(client_for, family):
    link, _, _ = family
    give_wallet_money(link.guardian, 5000)
    for amount in (700, 1100, 250, 40):
        fund(link, amount)

    entries, pages = read_pages(client_for(link.guardian.user), "/api/v1/wallet/statement?page_size=2")

    assert pages == 3
    assert [(e["amount"], e["balance_after"], e["kind"]) for e in entries] == [
        (-40, 2910, "card_fund"),
        (-250, 2950, "card_fund"),
        (-1100, 3200, "card_fund"),
        (-700, 4300, "card_fund"),
        (5000, 5000, "test_topup"),
    ]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert entries[0]["balance_after"] == accounts.guardian_wallet(link.guardian).balance
    first = entries[0]
    assert set(first) == {"id", "created_at", "amount", "balance_after", "kind", "memo", "transaction_id"}
    assert first["memo"] == f"To {link.student.first_name}'s card"


def test_statement_pages_walk_back_with_previous_links(client_for, family):
    link, _, _ = family
    for amount in (100, 200, 300, 400, 500):
        give_wallet_money(link.guardian, amount)
    client = client_for(link.guardian.user)

    first = client.get("/api/v1/wallet/statement?page_size=2").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    back = client.get(third["previous"]).json()
    start = client.get(back["previous"]).json()

    assert [e["amount"] for e in first["results"]] == [500, 400]
    assert [e["amount"] for e in second["results"]] == [300, 200]
    assert [e["amount"] for e in third["results"]] == [100]
    assert (third["next"], first["previous"]) == (None, None)
    assert back["results"] == second["results"]
    assert start["results"] == first["results"]
    created = Entry.objects.get(pk=first["results"][0]["id"]).created_at
    assert first["results"][0]["created_at"] == created.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("position", ["abc", "1;2", "-5"])
def test_a_forged_statement_cursor_is_400_invalid_cursor(client_for, family, position):
    link, _, _ = family
    give_wallet_money(link.guardian, 100)
    forged = base64.b64encode(urlencode({"p": position}).encode()).decode()

    response = client_for(link.guardian.user).get("/api/v1/wallet/statement", {"cursor": forged})

    assert_problem(response, 400, "invalid_cursor")


def test_statement_page_size_is_capped(client_for, family, monkeypatch):
    link, _, _ = family
    for amount in (100, 200, 300):
        give_wallet_money(link.guardian, amount)
    monkeypatch.setattr(CursorPage, "max_page_size", 2)  # 200 in production

    response = client_for(link.guardian.user).get("/api/v1/wallet/statement?page_size=100000")

    assert response.status_code == 200
    assert [e["amount"] for e in response.json()["results"]] == [300, 200]


def test_statement_from_to_are_inclusive_local_days(client_for, family):
    link, _, _ = family
    # 23:30 on Tuesday 24 November in Sydney is still the 24th there, though already 12:30 UTC.
    moments = {
        "2026-11-23": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        "2026-11-24": datetime(2026, 11, 24, 12, 30, tzinfo=UTC),
        "2026-11-25": datetime(2026, 11, 24, 13, 30, tzinfo=UTC),  # 00:30 on the 25th in Sydney
    }
    for day, moment in moments.items():
        with time_machine.travel(moment, tick=False):
            give_wallet_money(link.guardian, 100 * int(day[-2:]))
    client = client_for(link.guardian.user)

    body = client.get("/api/v1/wallet/statement?from=2026-11-24&to=2026-11-24").json()
    assert [e["amount"] for e in body["results"]] == [2400]
    body = client.get("/api/v1/wallet/statement?from=2026-11-24").json()
    assert [e["amount"] for e in body["results"]] == [2500, 2400]
    body = client.get("/api/v1/wallet/statement?to=2026-11-23").json()
    assert [e["amount"] for e in body["results"]] == [2300]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [("from=2026-11-25&to=2026-11-24", "to", "date_range_inverted"), ("from=yesterday", "from", "invalid")],
)
def test_statement_rejects_bad_dates(client_for, family, query, field, code):
    link, _, _ = family
    client = client_for(link.guardian.user)
    for url in (f"/api/v1/wallet/statement?{query}", f"/api/v1/students/{link.student_id}/card/statement.csv?{query}"):
        body = assert_problem(client.get(url), 400, "validation_error")
        assert body["errors"] == [{"field": field, "code": code, "message": body["errors"][0]["message"]}]


def test_card_statement_shows_charges_refunds_and_funding(client_for, family):
    link, _, terminal = family
    give_wallet_money(link.guardian, 3000)
    fund(link, 2000)
    first = charge(terminal, 350, "Banana bread")
    charge(terminal, 500, "Lunch order")
    refund(terminal, first.pk, 150)

    entries, _ = read_pages(client_for(link.guardian.user), f"/api/v1/students/{link.student_id}/card/statement")

    assert [(e["amount"], e["balance_after"], e["kind"], e["memo"]) for e in entries] == [
        (150, 1300, "card_charge_reversal", f"Refund of charge {first.pk}"),
        (-500, 1150, "card_charge", "Lunch order"),
        (-350, 1650, "card_charge", "Banana bread"),
        (2000, 2000, "card_fund", f"To {link.student.first_name}'s card"),
    ]
    assert entries[2]["transaction_id"] == first.transaction_id


# --- CSV ---------------------------------------------------------------------


def test_card_statement_csv(client_for, family):
    link, _, terminal = family
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        give_card_money(link.student, 1234)
        charge(terminal, 1205, description="=HYPERLINK(\"http://evil\")")

    response = client_for(link.guardian.user).get(f"/api/v1/students/{link.student_id}/card/statement.csv")

    assert response["Content-Disposition"] == f'attachment; filename="tuckbox-card-statement-{link.student_id}.csv"'
    rows = parse_csv(response)
    charge_row = CardCharge.objects.get().transaction
    assert rows[0] == [
        "entry_id", "created_at", "local_date", "kind", "memo", "amount_cents", "amount_dollars",
        "balance_after_cents", "balance_after_dollars", "currency", "transaction_id",
    ]  # fmt: skip
    assert [row[1:] for row in rows[1:]] == [
        # Sydney time, and a memo a spreadsheet would run as a formula is defused.
        ["2026-11-25T10:00:00+11:00", "2026-11-25", "card_charge", "'=HYPERLINK(\"http://evil\")", "-1205", "-12.05",
         "29", "0.29", "AUD", str(charge_row.pk)],
        ["2026-11-25T10:00:00+11:00", "2026-11-25", "test_card_fund", "", "1234", "12.34", "1234", "12.34", "AUD",
         str(LedgerTransaction.objects.get(kind="test_card_fund").pk)],
    ]  # fmt: skip
    assert int(rows[1][0]) > int(rows[2][0])


def test_wallet_csv_streams_every_entry_in_batches(client_for, family, monkeypatch):
    link, _, _ = family
    give_wallet_money(link.guardian, 10_000)
    for amount in range(1, 8):
        fund(link, amount)
    monkeypatch.setattr("wallet.selectors.STATEMENT_EXPORT_BATCH", 3)

    response = client_for(link.guardian.user).get("/api/v1/wallet/statement.csv")

    assert response.streaming
    rows = parse_csv(response)
    assert len(rows) == 1 + 8
    assert [int(row[5]) for row in rows[1:]] == [-7, -6, -5, -4, -3, -2, -1, 10_000]
    assert [row[8] for row in rows[1:]] == [format_dollars(int(row[7])) for row in rows[1:]]
    assert rows[1][7] == str(10_000 - 28)


def test_entries_in_batches_reads_by_keyset(family, django_assert_num_queries):
    link, _, _ = family
    give_wallet_money(link.guardian, 10_000)
    for amount in range(1, 8):
        fund(link, amount)
    entries = selectors.statement_entries(account=accounts.guardian_wallet(link.guardian), zone=ZoneInfo("Australia/Sydney"))

    with django_assert_num_queries(3):  # 3 + 3 + 2 entries; the short batch ends it
        streamed = list(selectors.entries_in_batches(entries, batch_size=3))

    assert [e.pk for e in streamed] == list(entries.values_list("pk", flat=True))
    assert len(streamed) == 8


def test_csv_from_to_filters(client_for, family):
    link, _, _ = family
    with time_machine.travel(datetime(2026, 11, 20, 1, 0, tzinfo=UTC), tick=False):
        give_wallet_money(link.guardian, 100)
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        give_wallet_money(link.guardian, 200)

    rows = parse_csv(client_for(link.guardian.user).get("/api/v1/wallet/statement.csv?from=2026-11-21"))

    assert [row[5] for row in rows[1:]] == ["200"]


def test_format_dollars():
    assert [format_dollars(c) for c in (0, 5, -5, 100, 1234, -120_050)] == ["0.00", "0.05", "-0.05", "1.00", "12.34", "-1200.50"]
    with pytest.raises(TypeError):
        format_dollars(1.5)


# --- Card summary --------------------------------------------------------------


def test_card_summary_counts_the_school_day_and_week(client_for, family):
    link, card, terminal = family
    SpendingControls.objects.create(
        student=link.student, daily_cap=1000, weekly_cap=3000, banned_categories=["entertainment"], low_balance_threshold=300
    )
    give_card_money(link.student, 5000)
    # Sunday (last week), Monday (this week), Wednesday 09:00 and 10:00: the school week starts on Monday.
    for moment, amount in (
        (datetime(2026, 11, 22, 0, 0, tzinfo=UTC), 400),
        (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), 600),
        (datetime(2026, 11, 24, 22, 0, tzinfo=UTC), 250),
        (WEDNESDAY_MORNING, 300),
    ):
        with time_machine.travel(moment, tick=False):
            charged = charge(terminal, amount)
    with time_machine.travel(WEDNESDAY_MORNING + timedelta(hours=1), tick=False):
        refund(terminal, charged.pk, 100)
        response = client_for(link.guardian.user).get(f"/api/v1/students/{link.student_id}/card")

    assert response.status_code == 200
    assert response.json() == {
        "student_id": link.student_id,
        "balance": 5000 - 400 - 600 - 250 - 300 + 100,
        "held": 0,
        "available": 3550,
        "currency": "AUD",
        "card": {
            "id": card.pk,
            "last4": "0042",
            "status": "active",
            "issued_at": card.issued_at.isoformat().replace("+00:00", "Z"),
            "status_changed_at": card.status_changed_at.isoformat().replace("+00:00", "Z"),
        },
        "controls": {"daily_cap": 1000, "weekly_cap": 3000, "banned_categories": ["entertainment"], "low_balance_threshold": 300},
        "spent_today": 250 + 300 - 100,
        "spent_this_week": 600 + 250 + 300 - 100,
        "day_starts_at": "2026-11-24T13:00:00Z",
        "week_starts_at": "2026-11-22T13:00:00Z",
        "time_zone": "Australia/Sydney",
    }


def test_card_summary_without_card_or_controls(client_for):
    link = GuardianLinkFactory()

    body = client_for(link.guardian.user).get(f"/api/v1/students/{link.student_id}/card").json()

    assert body["card"] is None
    assert body["balance"] == 0
    assert body["controls"] == {"daily_cap": None, "weekly_cap": None, "banned_categories": [], "low_balance_threshold": None}
    assert (body["spent_today"], body["spent_this_week"]) == (0, 0)
    assert not SpendingControls.objects.filter(student=link.student).exists()  # a read creates no controls


def test_card_summary_shows_a_frozen_card_and_then_the_lost_one(client_for, family):
    link, card, _ = family
    client = client_for(link.guardian.user)
    cards.card_change_status(link=link, card=card, action="freeze")
    assert client.get(f"/api/v1/students/{link.student_id}/card").json()["card"]["status"] == "frozen"
    cards.card_change_status(link=link, card=card, action="report_lost")
    assert client.get(f"/api/v1/students/{link.student_id}/card").json()["card"]["status"] == "lost"


# --- Who may read a card -----------------------------------------------------

CARD_URLS = ["/api/v1/students/{id}/card", "/api/v1/students/{id}/card/statement", "/api/v1/students/{id}/card/statement.csv"]


def test_another_guardians_child_is_not_found(client_for, family):
    link, _, _ = family
    other = GuardianLinkFactory()  # guardian B, with a child of their own
    client = client_for(other.guardian.user)
    for url in CARD_URLS:
        assert_problem(client.get(url.format(id=link.student_id)), 404, "not_found")
        assert client.get(url.format(id=other.student_id)).status_code == 200


@pytest.mark.parametrize("student_id", [0, 2**31, 2**63, 10**30])
def test_a_student_id_beyond_any_row_is_not_found(client_for, family, student_id):
    link, _, _ = family

    response = client_for(link.guardian.user).get(f"/api/v1/students/{student_id}/card/statement")

    assert response.status_code == 404


def test_revoked_link_loses_access(client_for, family):
    link, _, _ = family
    link.revoked_at = datetime(2026, 11, 1, tzinfo=UTC)
    link.save()
    client = client_for(link.guardian.user)
    for url in CARD_URLS:
        assert_problem(client.get(url.format(id=link.student_id)), 404, "not_found")


def test_second_guardian_sees_the_same_card(client_for, family):
    link, _, _ = family
    give_card_money(link.student, 800)
    second = GuardianLinkFactory(student=link.student, can_manage_money=False)
    body = client_for(second.guardian.user).get(f"/api/v1/students/{link.student_id}/card").json()
    assert body["balance"] == 800


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.ADMIN])
def test_finance_and_admin_staff_read_their_schools_cards(client_for, family, role):
    link, _, _ = family
    give_card_money(link.student, 800)
    client = client_for(StaffFactory(school=link.student.school, roles=[role]).user)
    for url in CARD_URLS:
        assert client.get(url.format(id=link.student_id)).status_code == 200
    assert client.get(f"/api/v1/students/{link.student_id}/card").json()["balance"] == 800


def test_staff_of_another_school_get_not_found(client_for, family):
    link, _, _ = family
    client = client_for(StaffFactory(roles=[StaffRole.FINANCE]).user)
    for url in CARD_URLS:
        assert_problem(client.get(url.format(id=link.student_id)), 404, "not_found")


@pytest.mark.parametrize("role", [StaffRole.TEACHER, StaffRole.CANTEEN])
def test_other_staff_roles_are_forbidden(client_for, family, role):
    link, _, _ = family
    client = client_for(StaffFactory(school=link.student.school, roles=[role]).user)
    for url in CARD_URLS:
        assert_problem(client.get(url.format(id=link.student_id)), 403, "permission_denied")


def test_terminal_cannot_read_cards(terminal_client, family):
    link, _, _ = family
    client = terminal_client(MerchantFactory(school=link.student.school))
    for url in CARD_URLS:
        assert_problem(client.get(url.format(id=link.student_id)), 403, "permission_denied")


def test_csv_answers_csv_and_problems_whatever_the_accept_header(client_for, family):
    link, _, _ = family
    give_card_money(link.student, 100)
    client = client_for(link.guardian.user)
    url = f"/api/v1/students/{link.student_id}/card/statement.csv"

    assert len(parse_csv(client.get(url, HTTP_ACCEPT="text/csv"))) == 2
    assert len(parse_csv(client.get(url, HTTP_ACCEPT="application/json"))) == 2
    assert_problem(client.get(f"/api/v1/students/{link.student_id + 999}/card/statement.csv", HTTP_ACCEPT="text/csv"), 404, "not_found")
