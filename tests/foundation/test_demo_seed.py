"""`demo_seed` (run by `make run`) can run again without duplicating anything, and leaves a ledger that reconciles."""

import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient

from config.management.commands.demo_seed import DEMO_PASSWORD, DEMO_TERMINAL_KEY
from wallet.demo import opening_balances
from wallet.models import ReconciliationIssue
from wallet.reconciliation import reconciliation_run

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


def test_a_freshly_seeded_ledger_reconciles_cleanly():
    seed()

    summary = reconciliation_run()

    assert (summary.ok, summary.issues_found, summary.new_issues) == (True, 0, 0)
    assert summary.checked_transactions > 0
    assert not ReconciliationIssue.objects.exists()
    # 3 wallets of $50 and 5 cards of $20 came in as opening equity, not out of processor clearing.
    assert opening_balances().balance == -(3 * 5000 + 5 * 2000)
