"""The cut-off run, the prep list and labels, collection, and counter sales."""

import uuid

import pytest

from canteen import labels, orders
from canteen.cutoff import cutoff_run, due_cutoffs
from canteen.models import CutoffRun, FoodProfile, MenuItem, Order, OrderStatus
from canteen.periods import default_period
from canteen.tasks import run_due_cutoffs
from core.models import Notification
from tests.canteen.conftest import WEDNESDAY
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    StaffFactory,
    StudentCardFactory,
    give_card_money,
    give_wallet_money,
)
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardAcceptance, Hold, HoldStatus, LedgerTransaction

pytestmark = pytest.mark.django_db
CUTOFF_PASSED = "2026-12-01T21:30:00Z"  # Wednesday 08:30 in Sydney


def second_child_orders(canteen, roll_class="4A"):
    link = GuardianLinkFactory(student__school=canteen.school, student__roll_class=roll_class, student__year_level=4)
    give_wallet_money(link.guardian, 3000)
    return link


def test_the_cutoff_run_posts_each_hold_once_and_notifies_the_kitchen_once(canteen, at, client_for):
    StaffFactory(school=canteen.school, roles=["canteen"])
    canteen.order([(canteen.wrap, 1)])
    other = second_child_orders(canteen)
    other_client = client_for(other.guardian.user)
    other_client.post(
        f"/api/v1/students/{other.student.pk}/orders",
        {"service_date": "2026-12-02", "items": [{"item_id": canteen.juice.pk, "quantity": 2}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    with at("2026-12-01T21:29:59Z"):
        assert cutoff_run(school=canteen.school, service_date=WEDNESDAY) is None  # not yet
    with at(CUTOFF_PASSED):
        # Tuesday's cut-off (which had no orders) is still due too: a missed day is caught up.
        lunch = default_period(canteen.school)
        assert due_cutoffs() == [(canteen.school, WEDNESDAY.replace(day=1), lunch), (canteen.school, WEDNESDAY, lunch)]
        assert run_due_cutoffs() == 2
        assert run_due_cutoffs() == 0  # nothing left due
        again = cutoff_run(school=canteen.school, service_date=WEDNESDAY)  # forced second run

    assert CutoffRun.objects.filter(service_date=WEDNESDAY).count() == 1 and again.orders_posted == 2
    assert Hold.objects.filter(status=HoldStatus.POSTED).count() == 2
    assert LedgerTransaction.objects.filter(kind="canteen_order").count() == 2
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 650 + 600
    wallet = accounts.guardian_wallet(canteen.link.guardian)
    assert (wallet.balance, wallet.held) == (5000 - 650, 0)
    assert Notification.objects.filter(kind="canteen_prep_list", data__service_date="2026-12-02").count() == 1
    assert_ledger_consistent()


def test_an_order_that_commits_after_the_cutoff_run_is_posted_by_the_next_run(canteen, at):
    # The run has read the day's orders; an order judged just before the cut-off commits just after.
    with at(CUTOFF_PASSED):
        assert run_due_cutoffs() == 2  # Tuesday's and Wednesday's, both empty
    with at("2026-12-01T21:29:59.999Z"):
        orders.order_place(
            link=canteen.link, service_date=WEDNESDAY, lines=[orders.LineRequest(canteen.wrap.pk, 1)], note="", reference="test:late-commit"
        )
    with at("2026-12-01T21:31:00Z"):
        assert due_cutoffs() == [(canteen.school, WEDNESDAY, default_period(canteen.school))]
        assert run_due_cutoffs() == 1
        assert due_cutoffs() == []

    assert Hold.objects.get().status == HoldStatus.POSTED
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 650
    wallet = accounts.guardian_wallet(canteen.link.guardian)
    assert (wallet.balance, wallet.held) == (5000 - 650, 0)
    assert Notification.objects.filter(kind="canteen_prep_list", data__service_date="2026-12-02").count() <= 1
    assert_ledger_consistent()


def test_after_days_of_downtime_the_missed_days_holds_are_still_posted(canteen, at):
    canteen.order([(canteen.wrap, 1)])  # for Wednesday 2 December
    with at("2026-12-05T00:00:00Z"):  # Saturday: the cut-off job was down Wednesday to Friday
        assert (canteen.school, WEDNESDAY, default_period(canteen.school)) in due_cutoffs()
        run_due_cutoffs()
        assert (canteen.school, WEDNESDAY, default_period(canteen.school)) not in due_cutoffs()

    assert Hold.objects.get().status == HoldStatus.POSTED
    assert Order.objects.get().payment_id is not None
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 650
    assert_ledger_consistent()


def test_prep_list_counts_classes_and_labels(canteen, client_for, at):
    FoodProfile.objects.create(student=canteen.student, allergens=["sesame"])
    canteen.order([(canteen.wrap, 2), (canteen.juice, 1)])
    other = second_child_orders(canteen, roll_class="3C")
    client_for(other.guardian.user).post(
        f"/api/v1/students/{other.student.pk}/orders",
        {"service_date": "2026-12-02", "items": [{"item_id": canteen.wrap.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    staff = client_for(StaffFactory(school=canteen.school, roles=["canteen"]).user)

    prep = staff.get("/api/v1/canteen/prep-list?date=2026-12-02").json()
    csv_text = staff.get("/api/v1/canteen/prep-list.csv?date=2026-12-02").content.decode()
    pdf = staff.get("/api/v1/canteen/labels.pdf?date=2026-12-02")

    assert prep["order_count"] == 2
    assert {i["name"]: i["quantity"] for i in prep["items"]} == {"Apple juice": 1, "Chicken wrap": 3}
    assert [c["roll_class"] for c in prep["classes"]] == ["3C", "4B"]
    mine = next(label for label in prep["labels"] if label["roll_class"] == "4B")
    assert mine["allergens"] == ["sesame"]
    assert "SESAME" in csv_text and csv_text.count("\n") == 3
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"ALLERGIES: SESAME" in pdf.content


def test_labels_pdf_renders_many_pages():
    fake = {"service_date": WEDNESDAY, "labels": [
        {"student_name": f"Child {n}", "roll_class": "4B", "school_name": "School", "service_date": WEDNESDAY, "service": "Lunch",
         "items": [{"name": "Wrap", "quantity": 1}] * 5, "allergens": ["peanut"], "receipt_number": f"R{n}"}
        for n in range(50)
    ]}
    pdf = labels.labels_pdf(fake)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3


def test_collection_and_day_close(canteen, client_for, at):
    first = canteen.order([(canteen.wrap, 1)]).json()["id"]
    other = second_child_orders(canteen)
    second = client_for(other.guardian.user).post(
        f"/api/v1/students/{other.student.pk}/orders",
        {"service_date": "2026-12-02", "items": [{"item_id": canteen.juice.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    ).json()["id"]
    staff_member = StaffFactory(school=canteen.school, roles=["canteen"])

    with at("2026-12-02T02:00:00Z"):
        staff = client_for(staff_member.user)
        collected = staff.post(f"/api/v1/canteen/orders/{first}/collect")
        report = staff.post("/api/v1/canteen/days/close?date=2026-12-02")

    assert collected.json()["status"] == "fulfilled"
    assert [o["id"] for o in report.json()["not_collected"]] == [second]
    assert Order.objects.get(pk=second).status == OrderStatus.NOT_COLLECTED


def test_teachers_cannot_see_the_kitchen(canteen, client_for):
    teacher = client_for(StaffFactory(school=canteen.school, roles=["teacher"]).user)
    assert teacher.get("/api/v1/canteen/prep-list?date=2026-12-02").status_code == 403


# --- Counter sales -----------------------------------------------------------


def sell(canteen, terminal_client, items, card="CANTEEN-CARD-1"):
    return terminal_client.post(
        "/api/v1/terminal/canteen/sales",
        {"card_identifier": card, "items": [{"item_id": item.pk, "quantity": qty} for item, qty in items]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def test_counter_sale_charges_the_card(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    till = terminal_client(canteen.settings.merchant)

    response = sell(canteen, till, [(canteen.juice, 2)])

    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["remaining_balance"]) == (600, 400)
    assert accounts.merchant_payable(canteen.settings.merchant).balance == 600


def test_counter_sale_with_a_declared_allergen_is_declined(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    FoodProfile.objects.create(student=canteen.student, allergens=["peanut"])

    response = sell(canteen, terminal_client(canteen.settings.merchant), [(canteen.satay, 1)])

    assert response.status_code == 422
    assert response.json()["code"] == "allergen_conflict"
    assert accounts.student_card_account(canteen.student).balance == 1000


def test_counter_sale_of_another_schools_item_is_refused(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    foreign = MenuItem.objects.create(school=StaffFactory().school, name="Pie", price=500, category="lunch")

    response = sell(canteen, terminal_client(canteen.settings.merchant), [(foreign, 1)])

    assert response.status_code == 422 and response.json()["code"] == "item_unavailable"


def test_counter_sale_names_only_the_items_it_cannot_sell_and_charges_nothing(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    retired = MenuItem.objects.create(school=canteen.student.school, name="Old pie", price=500, category="lunch", is_active=False)

    response = sell(canteen, terminal_client(canteen.settings.merchant), [(canteen.juice, 1), (retired, 1)])

    assert (response.status_code, response.json()["code"], response.json()["details"]["item_ids"]) == (422, "item_unavailable", [retired.pk])
    assert accounts.student_card_account(canteen.student).balance == 1000


def test_a_merchant_serving_no_school_sells_no_canteen_item_even_on_a_card_it_may_charge(canteen, terminal_client):
    StudentCardFactory(student=canteen.student, identifier="CANTEEN-CARD-1")
    give_card_money(canteen.student, 1000)
    cafe = MerchantFactory(categories=["canteen"])  # no school of its own
    CardAcceptance.objects.create(school=canteen.student.school, merchant=cafe)

    response = sell(canteen, terminal_client(cafe), [(canteen.juice, 1)])

    assert (response.status_code, response.json()["code"], response.json()["details"]["item_ids"]) == (422, "item_unavailable", [canteen.juice.pk])
    assert accounts.student_card_account(canteen.student).balance == 1000
