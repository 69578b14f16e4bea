"""A pre-order's placement and change as one database call (canteen/order_write.py): what the call
judges again under its locks, what it writes in the one commit, and what a request costs."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from canteen import calendar, configuration, menus, order_write, orders, periods
from canteen.cutoff import cutoff_run
from canteen.models import DailyStock, FoodProfile, Order, OrderLine
from core import clock
from core.errors import DomainError
from tests.canteen.conftest import WEDNESDAY
from tests.factories import GuardianLinkFactory, StudentCardFactory, give_card_money, give_wallet_money
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import Entry, Hold, HoldStatus, LedgerTransaction

pytestmark = pytest.mark.django_db


def wallet_of(guardian):
    return accounts.guardian_wallet(guardian)


def change(client, order_id, items, key=None):
    return client.put(
        f"/api/v1/canteen/orders/{order_id}",
        {"items": [{"item_id": item.pk, "quantity": qty} for item, qty in items]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


def test_an_allergy_declared_after_the_read_still_refuses_the_order_under_the_profiles_lock(canteen):
    """The lines were judged safe on the read; the other guardian declares egg before the call locks the
    profile. The call judges again and refuses, naming the item and the allergen, and writes nothing."""
    student, settings = canteen.student, configuration.settings_for(canteen.school)
    period = periods.default_period(canteen.school)
    priced = menus.priced_lines(
        student=student, settings=settings, day=WEDNESDAY, period=period, lines=[orders.LineRequest(canteen.wrap.pk, 1)], late=False
    )
    FoodProfile.objects.update_or_create(student=student, defaults={"allergens": ["egg"]})

    with pytest.raises(DomainError) as refused:
        order_write.place(
            student=student, guardian=canteen.link.guardian, merchant_id=settings.merchant_id, period=period, service_date=WEDNESDAY,
            late=False, note="", priced=priced, reference="t:egg", hold_expires_at=calendar.cutoff_instant(canteen.school, WEDNESDAY),
            now=clock.now(),
        )

    assert refused.value.code == "allergen_conflict"
    assert refused.value.details["conflicts"] == [{"item_id": canteen.wrap.pk, "name": "Chicken wrap", "allergens": ["egg"]}]
    assert (Order.objects.count(), Hold.objects.count(), wallet_of(canteen.link.guardian).held) == (0, 0, 0)


def test_a_second_guardian_changes_the_order_and_pays_for_it_from_their_own_wallet(canteen, client_for, at):
    """The first guardian's hold is released; the second's wallet holds the new total, and the cut-off
    posts it from there (before, the second wallet was locked but the first one's hold was not)."""
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]
    other = GuardianLinkFactory(student=canteen.student)
    give_wallet_money(other.guardian, 2000)

    response = change(client_for(other.guardian.user), order_id, [(canteen.juice, 2)])

    assert response.status_code == 200, response.json()
    assert (response.json()["total"], response.json()["payment_state"]) == (600, "held")
    first, second = wallet_of(canteen.link.guardian), wallet_of(other.guardian)
    assert (first.balance, first.held, second.balance, second.held) == (5000, 0, 2000, 600)
    order = Order.objects.select_related("hold").get(pk=order_id)
    assert (order.placed_by_id, order.hold.account_id, order.hold.status) == (other.guardian.pk, second.pk, HoldStatus.PENDING)

    with at("2026-12-01T21:30:00Z"):  # Wednesday's 08:30 cut-off in Sydney
        cutoff_run(school=canteen.school, service_date=WEDNESDAY)
    second.refresh_from_db()
    assert (second.balance, second.held) == (1400, 0)
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 600
    assert_ledger_consistent()


def test_a_change_refused_for_money_leaves_the_order_its_lines_hold_and_stock_as_they_were(canteen):
    canteen.wrap.daily_stock_limit = 20
    canteen.wrap.save()
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    response = change(canteen.guardian_client, order_id, [(canteen.wrap, 9)])  # 9 x 650 > the 5000 in the wallet

    assert response.status_code == 402 and response.json()["code"] == "insufficient_funds"
    assert response.json()["details"]["available"] == 5000  # the order's own hold counts as available to it
    order = Order.objects.get(pk=order_id)
    assert (order.total, list(OrderLine.objects.filter(order=order).values_list("quantity", flat=True))) == (650, [1])
    assert (order.hold.status, wallet_of(canteen.link.guardian).held) == (HoldStatus.PENDING, 650)
    assert DailyStock.objects.get(menu_item=canteen.wrap, service_date=WEDNESDAY).ordered == 1


def test_a_late_order_is_charged_at_once_by_one_balanced_transaction(canteen, at, client_for):
    canteen.settings.late_cutoff = "09:30"
    canteen.settings.save()
    period = periods.default_period(canteen.school)
    period.late_cutoff = canteen.settings.late_cutoff
    period.save()
    canteen.juice.late_menu = True
    canteen.juice.save()

    with at("2026-12-01T21:45:00Z"):  # Wednesday 08:45 in Sydney: after the cut-off, inside the late window
        response = canteen.order([(canteen.juice, 1)], client=client_for(canteen.link.guardian.user))

    assert response.status_code == 201, response.json()
    assert (response.json()["late"], response.json()["payment_state"]) == (True, "charged")
    payment = LedgerTransaction.objects.get(kind="canteen_order")
    payable = accounts.merchant_payable(canteen.settings.merchant)
    wallet = wallet_of(canteen.link.guardian)
    assert sorted(Entry.objects.filter(transaction=payment).values_list("account_id", "amount")) == sorted(
        [(wallet.pk, -300), (payable.pk, 300)]
    )
    assert (wallet.balance, wallet.held, payable.balance) == (4700, 0, 300)
    assert payment.memo == f"Canteen order {Order.objects.get().receipt_number}"
    assert_ledger_consistent()


# --- What a request costs -----------------------------------------------------------------------


def shape(statements: list[str]) -> list[str]:
    """Each statement by its first words, or the database function it calls."""
    named = []
    for sql in statements:
        words = sql.split()
        called = next((word.split("(")[0] for word in words if word.startswith(("canteen_order_", "wallet_card_"))), None)
        named.append(called or " ".join(words[:2]) if words[0] in ("SELECT", "UPDATE", "INSERT") else words[0])
    return named


@pytest.mark.django_db(transaction=True)
def test_a_pre_order_is_the_reads_one_decision_and_the_answer_in_one_commit(canteen):
    canteen.order([(canteen.juice, 1)], day=WEDNESDAY.replace(day=3))  # the first order opens the payable and profile

    with CaptureQueriesContext(connection) as queries:
        response = canteen.order([(canteen.wrap, 1)])

    assert response.status_code == 201, response.json()
    statements = [query["sql"] for query in queries.captured_queries]
    assert shape(statements) == [
        'SELECT a."id",',  # the session with its user, on every request
        "BEGIN",
        "WITH",  # the Idempotency-Key claimed
        'SELECT l."id",',  # the caller's link to the child
        'SELECT cs."id",',  # settings, period, the day's terms and closures, a leaver, the food profile, a replay, the items
        "canteen_order_place",  # the locks, the re-checks and every write; the receipt's lines come back from it
        "UPDATE api_idempotencyrecord",  # the answer stored
        "COMMIT",
    ], statements
    assert not [sql for sql in statements if "FOR UPDATE" in sql or "FOR NO KEY UPDATE" in sql], "every lock is the function's"


def test_a_placements_receipt_lists_exactly_the_lines_it_wrote_in_their_order(canteen):
    """The receipt is built from what the call wrote (its lines' ids), not read back: it must be the rows."""
    response = canteen.order([(canteen.wrap, 2), (canteen.juice, 1)])

    assert response.status_code == 201, response.json()
    stored = [
        {"menu_item_id": line.menu_item_id, "name": line.name, "unit_price": line.unit_price, "quantity": line.quantity,
         "line_total": line.line_total, "allergens": line.allergens}
        for line in OrderLine.objects.filter(order_id=response.json()["id"]).order_by("id")
    ]
    assert response.json()["lines"] == stored
    assert {line["menu_item_id"]: (line["quantity"], line["allergens"]) for line in stored} == {
        canteen.wrap.pk: (2, ["gluten", "egg"]), canteen.juice.pk: (1, [])
    }


@pytest.mark.django_db(transaction=True)
def test_a_change_is_one_decision_in_the_one_commit(canteen):
    order_id = canteen.order([(canteen.wrap, 1)]).json()["id"]

    with CaptureQueriesContext(connection) as queries:
        response = change(canteen.guardian_client, order_id, [(canteen.juice, 1)])

    assert response.status_code == 200, response.json()
    named = shape([query["sql"] for query in queries.captured_queries])
    assert named.count("COMMIT") == 1 and named.count("canteen_order_change") == 1
    assert not [sql for sql in (query["sql"] for query in queries.captured_queries) if "FOR UPDATE" in sql]


@pytest.mark.django_db(transaction=True)
def test_a_counter_sale_reads_the_card_with_its_items_and_the_food_profile_in_one_statement_then_decides(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    till = terminal_client(canteen.settings.merchant)

    def sell():
        return till.post(
            "/api/v1/terminal/canteen/sales",
            {"card_identifier": "CANTEEN-CARD-1", "items": [{"item_id": canteen.juice.pk, "quantity": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )

    sell()  # the first sale opens the payable and stamps the terminal's minute
    with CaptureQueriesContext(connection) as queries:
        response = sell()

    assert response.status_code == 201, response.json()
    assert shape([query["sql"] for query in queries.captured_queries]) == [
        'SELECT t."id",',  # the terminal key, on every request
        "BEGIN",
        "WITH",  # the Idempotency-Key claimed
        'SELECT c."id",',  # the card if its school accepts the merchant, the items, the child's food profile
        "wallet_card_charge",
        "UPDATE api_idempotencyrecord",
        "COMMIT",  # no read after it: the charge answered whether an automatic top-up may be due
    ]
