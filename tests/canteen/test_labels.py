"""Bag labels: every allergen of every child is printed whole, inside the label, with the day, school, class and service."""

import uuid
from datetime import date

import pytest

from canteen.allergens import allergen_label
from canteen.labels import labels_pdf
from canteen.models import Allergen, FoodProfile, MenuItem
from tests.canteen.conftest import WEDNESDAY
from tests.canteen.label_reader import labels_of, printed_allergens, read_labels
from tests.factories import GuardianLinkFactory, StaffFactory, give_wallet_money

pytestmark = pytest.mark.django_db

ALL = [allergen.value for allergen in Allergen]
EIGHT = ["gluten", "egg", "milk", "tree_nut", "peanut", "sesame", "soy", "shellfish"]  # not fish: FISH is inside SHELLFISH
LONG_FIRST, LONG_LAST = "Maximiliana-Alexandrina", "Featherstonehaugh-Worthington"


def child_with_order(canteen, client_for, *, allergens, last_name, items):
    link = GuardianLinkFactory(
        student__school=canteen.school, student__first_name=LONG_FIRST, student__last_name=last_name, student__roll_class="4B Kookaburras"
    )
    give_wallet_money(link.guardian, 10_000)
    if allergens:
        FoodProfile.objects.create(student=link.student, allergens=allergens, dietary_needs=["vegetarian"])
    response = client_for(link.guardian.user).post(
        f"/api/v1/students/{link.student.pk}/orders",
        {"service_date": WEDNESDAY.isoformat(), "items": [{"item_id": item.pk, "quantity": 1} for item in items]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert response.status_code == 201, response.json()
    return link.student, response.json()["receipt_number"]


def test_every_allergen_of_every_child_is_printed_whole_on_the_label(canteen, client_for):
    canteen.school.name = "Our Lady of the Rosary Primary School"
    canteen.school.save()
    long_items = [
        MenuItem.objects.create(school=canteen.school, name=f"Extra large roasted vegetable and haloumi wholemeal wrap no. {n}", price=100, category="lunch")
        for n in range(6)
    ]
    children = {
        "none": ([], f"{LONG_LAST}-Zero"),
        "one": (["peanut"], f"{LONG_LAST}-One"),
        "eight": (EIGHT, f"{LONG_LAST}-Eight"),
        "all": (ALL, f"{LONG_LAST}-All"),
    }
    receipts = {}
    for key, (allergens, last_name) in children.items():
        items = [canteen.juice, *long_items] if key == "all" else [canteen.juice]
        receipts[key] = child_with_order(canteen, client_for, allergens=allergens, last_name=last_name, items=items)
    staff = client_for(StaffFactory(school=canteen.school, roles=["canteen"]).user)

    response = staff.get("/api/v1/canteen/labels.pdf?date=2026-12-02")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    printed = read_labels(response.content)  # also: no text runs out of its label
    for key, (allergens, last_name) in children.items():
        student, receipt = receipts[key]
        mine = labels_of(printed, receipt)
        assert mine, f"no label for {key}"
        expected = [allergen_label(code) for code in allergens] or ["NONE DECLARED"]
        assert printed_allergens(mine) == expected, key
        first = mine[0].text
        assert first.startswith("Wed 02 Dec 2026 · LUNCH") and "Our Lady of the Rosary Primary School" in first
        assert "4B Kookaburras" in first and LONG_FIRST in first and last_name in first
    # Four allergens past "TRE" used to be cut off: the eight are there, one after another.
    assert printed_allergens(labels_of(printed, receipts["eight"][1])) == [
        "WHEAT / GLUTEN", "EGG", "MILK", "TREE NUT", "PEANUT", "SESAME", "SOY", "SHELLFISH"
    ]


def test_an_order_that_does_not_fit_continues_on_labels_marked_as_such(canteen, client_for):
    long_items = [
        MenuItem.objects.create(school=canteen.school, name=f"Extra large roasted vegetable and haloumi wholemeal wrap no. {n}", price=100, category="lunch")
        for n in range(8)
    ]
    _, receipt = child_with_order(canteen, client_for, allergens=ALL, last_name=LONG_LAST, items=[canteen.juice, *long_items])
    staff = client_for(StaffFactory(school=canteen.school, roles=["canteen"]).user)

    printed = read_labels(staff.get("/api/v1/canteen/labels.pdf?date=2026-12-02").content)

    mine = labels_of(printed, receipt)
    count = len(mine)
    assert count >= 2 and [label.slot for label in mine] == list(range(mine[0].slot, mine[0].slot + count))
    assert f"LABEL 1 OF {count}: CONTINUED ON NEXT" in mine[0].lines
    for number, label in enumerate(mine[1:], start=2):
        ending = " (LAST)" if number == count else ", MORE NEXT"
        assert f"CONTINUED: LABEL {number} OF {count}{ending}" in label.lines
        assert "Wed 02 Dec 2026 · LUNCH" in label.text and "4B Kookaburras" in label.text and LONG_FIRST in label.text
    assert printed_allergens(mine) == [allergen_label(code) for code in ALL]
    everything = " ".join(line for label in mine for line in label.lines)
    for item in [canteen.juice, *long_items]:
        assert f"1 x {item.name}" in everything


def test_a_sheet_of_worst_cases_stays_inside_its_labels():
    """Thirty children with every allergen, an alert, a dozen long items and very long names, school and class."""
    label = {
        "school_name": "The Very Long Named Anglican Grammar School of the Southern Highlands and Surrounds",
        "service_date": date(2026, 12, 2),
        "service": "Lunch",
        "roll_class": "K-6 Support Unit B",
        "items": [{"name": f"Gluten free roasted pumpkin, spinach and feta frittata slice {n}", "quantity": 2} for n in range(12)],
        "allergens": ALL,
        "allergen_alerts": [{"menu_item_id": 1, "name": "Satay chicken skewer with peanut dipping sauce", "allergens": ["peanut", "sesame"]}],
        "dietary_needs": ["vegetarian", "halal", "gluten_free"],
    }
    labels = [
        {**label, "student_name": f"{'Bartholomew-Maximilian' * 2} {'Featherstonehaugh' * 3} {n}", "receipt_number": f"C1-20261202-{n:06d}"}
        for n in range(30)
    ]

    printed = read_labels(labels_pdf({"service_date": WEDNESDAY, "labels": labels}))

    assert {p.page for p in printed} >= {0, 1, 2}
    for n in range(30):
        mine = labels_of(printed, f"C1-20261202-{n:06d}")
        assert printed_allergens(mine) == [allergen_label(code) for code in ALL]
        assert "DO NOT SERVE: Satay chicken skewer with peanut dipping sauce (PEANUT, SESAME)" in " ".join(mine[0].lines)
        assert all("Wed 02 Dec 2026 · LUNCH" in p.text for p in mine)
