"""`demo_seed` (run by `make run`) can run again without duplicating anything."""

import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient

from config.management.commands.demo_seed import DEMO_PASSWORD, DEMO_TERMINAL_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_lane]

SEEDED_APPS = ("guardians", "wallet")


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in SEEDED_APPS
        for model in apps.get_app_config(app).get_models()
    }


def seed():
    call_command("demo_seed", "--force", "--quiet")


def test_seeding_twice_creates_nothing_twice():
    seed()
    first = row_counts()
    seed()

    assert row_counts() == first
    assert first["guardians.School"] == 2
    assert first["guardians.Student"] == 5
    assert first["guardians.GuardianLink"] == 6
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

    assert sorted(student["first_name"] for student in students) == ["Leo", "Mia"]


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
    ]
