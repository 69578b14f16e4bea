"""`demo_seed` (run by `make run`) can run again without duplicating anything, and leaves a ledger that reconciles."""

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from canteen.models import MenuItem
from config.management.commands.demo_seed import DEMO_PASSWORD, DEMO_TERMINAL_KEY
from wallet.demo import opening_balances
from wallet.models import ReconciliationIssue
from wallet.reconciliation import reconciliation_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_gateway")]

SEEDED_APPS = ("guardians", "wallet")


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in SEEDED_APPS
        for model in apps.get_app_config(app).get_models()
    }


def seed():
    call_command("demo_seed", "--quiet")


def test_seeding_twice_creates_nothing_twice():
    seed()
    first = row_counts()
    seed()

    assert row_counts() == first
    assert first["guardians.School"] == 3  # two schools, and the live cut-off's
    assert first["guardians.Student"] == 6
    assert first["guardians.GuardianLink"] == 7
    assert first["wallet.Terminal"] == 2  # the canteen counter and the swim club's voucher terminal


def test_the_demo_terminal_key_authenticates():
    seed()
    client = APIClient()
    client.credentials(HTTP_X_TERMINAL_KEY=DEMO_TERMINAL_KEY)

    response = client.get("/api/v1/terminal")

    assert response.status_code == 200
    assert response.json()["merchant_name"] == "Harbourside Canteen"


def test_a_demo_guardian_signs_in_and_sees_their_children():
    seed()
    tokens = APIClient().post(
        "/api/v1/auth/token", {"email": "olivia.parent@example.com", "password": DEMO_PASSWORD}, format="json"
    )
    assert tokens.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")

    students = client.get("/api/v1/students").json()["results"]

    assert sorted(student["first_name"] for student in students) == ["Leo", "Mia", "Noah"]  # Noah: the live cut-off


def test_seeding_again_after_staff_changed_the_menu_through_the_api(api_client):
    seed()
    staff = APIClient()
    tokens = staff.post("/api/v1/auth/token", {"email": "canteen@harbourside.example", "password": DEMO_PASSWORD}, format="json")
    staff.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    items = staff.get("/api/v1/canteen/menu-items").json()["results"]
    wrap = next(item for item in items if item["name"] == "Chicken wrap")
    renamed = staff.patch(f"/api/v1/canteen/menu-items/{wrap['id']}", {"name": "Chicken wrap (large)"}, format="json")
    assert renamed.status_code == 200, renamed.content
    fruit = next(item for item in items if item["name"] == "Fruit cup")
    duplicate = {key: fruit[key] for key in ("name", "price", "category", "allergens", "dietary_tags")}
    created = staff.post("/api/v1/canteen/menu-items", duplicate, format="json", HTTP_IDEMPOTENCY_KEY="menu-dup-1")
    assert created.status_code == 201, created.content
    menu_before = sorted(MenuItem.objects.filter(school__code="harbourside").values_list("name", flat=True))

    seed()  # raised MultipleObjectsReturned before

    # The menu is the staff's now: nothing re-added, nothing merged.
    assert sorted(MenuItem.objects.filter(school__code="harbourside").values_list("name", flat=True)) == menu_before
    assert menu_before.count("Fruit cup") == 2 and "Chicken wrap" not in menu_before


def test_the_seed_refuses_a_system_that_takes_real_money(settings):
    settings.PAYMENT_GATEWAY = "stripe"

    with pytest.raises(CommandError, match="PAYMENT_GATEWAY=fake"):
        call_command("demo_seed", "--quiet")

    assert not apps.get_model("guardians", "School").objects.exists()


def test_the_live_cut_off_order_is_held_until_the_cut_off_and_charged_by_its_run(time_machine):
    from canteen import cutoff
    from canteen.models import Order
    from core import clock

    time_machine.move_to("2026-12-06T22:00:00Z", tick=False)  # a Sunday in the school holidays
    call_command("demo_seed", "--quiet", "--live-cutoff-seconds", "120")
    order = Order.objects.get(student__student_number="WGS-0001")
    assert order.payment_id is None and order.hold.status == "pending"
    assert ("wattle-grove", order.service_date) not in {(school.code, day) for school, day, _ in cutoff.due_cutoffs()}

    time_machine.move_to("2026-12-06T22:02:01Z", tick=False)
    for school, day, period in cutoff.due_cutoffs():
        cutoff.cutoff_run(school=school, service_date=day, period=period)

    order.refresh_from_db()
    assert order.payment_id is not None
    assert order.service_date == clock.local_today("Australia/Sydney")


def test_the_readme_charge_works_and_only_each_schools_canteen_takes_its_cards():
    import uuid

    from vouchers.demo import DEMO_PROVIDER_TERMINAL_KEY
    from wallet.models import CardAcceptance

    seed()
    canteen, swim_club = APIClient(), APIClient()
    canteen.credentials(HTTP_X_TERMINAL_KEY=DEMO_TERMINAL_KEY)
    swim_club.credentials(HTTP_X_TERMINAL_KEY=DEMO_PROVIDER_TERMINAL_KEY)

    def charge(client, card, categories):
        body = {"card_identifier": card, "amount": 400, "categories": categories}
        return client.post("/api/v1/terminal/charges", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    readme = charge(canteen, "TBX-CARD-0001", ["canteen"])  # Mia, Harbourside
    other_school = charge(canteen, "TBX-CARD-0004", ["canteen"])  # Arjun, Banksia
    provider = charge(swim_club, "TBX-CARD-0001", ["sport"])

    assert readme.status_code == 201, readme.content
    assert (other_school.status_code, other_school.json()["code"]) == (402, "unknown_card")
    assert (provider.status_code, provider.json()["code"]) == (402, "unknown_card")
    assert sorted(CardAcceptance.objects.values_list("school__code", "merchant__school__code")) == [
        ("banksia", "banksia"),
        ("harbourside", "harbourside"),
        ("wattle-grove", "wattle-grove"),  # the live cut-off's school
    ]


def test_a_freshly_seeded_ledger_reconciles_cleanly():
    seed()

    summary = reconciliation_run()

    assert (summary.ok, summary.issues_found, summary.new_issues) == (True, 0, 0)
    assert summary.checked_transactions > 0
    assert not ReconciliationIssue.objects.exists()
    # 3 wallets of $50 and 5 cards of $20 came in as opening equity, not out of processor clearing.
    assert opening_balances().balance == -(3 * 5000 + 5 * 2000)
