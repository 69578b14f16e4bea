"""The demo's merchant administrator signs in and manages Harbourside Canteen's terminals."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.management.commands.demo_seed import DEMO_PASSWORD, MERCHANT_ADMIN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_gateway")]


def test_the_demo_merchant_admin_signs_in_and_manages_the_canteens_terminals():
    call_command("demo_seed", "--quiet")
    tokens = APIClient().post("/api/v1/auth/token", {"email": MERCHANT_ADMIN, "password": DEMO_PASSWORD}, format="json")
    assert tokens.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")

    assert [row["label"] for row in client.get("/api/v1/merchant/terminals").json()["results"]] == ["Canteen counter 1"]
    created = client.post("/api/v1/merchant/terminals", {"label": "Canteen counter 2"}, format="json")
    assert created.status_code == 201 and created.json()["key"].startswith("tbx_term_")


def test_the_summary_prints_the_merchant_login(capsys):
    call_command("demo_seed")

    assert f"merchant:   {MERCHANT_ADMIN}" in capsys.readouterr().out
