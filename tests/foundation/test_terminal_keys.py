"""Terminal API keys: a key opens its own merchant's terminal and nothing else."""

import pytest
from rest_framework.test import APIClient

from tests.factories import MerchantFactory
from tests.helpers import assert_problem
from wallet.terminal_keys import terminal_revoke

TERMINAL = "/api/v1/terminal"

pytestmark = pytest.mark.django_db


def with_key(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
    return client


def assert_key_refused(response) -> None:
    assert_problem(response, 401, "terminal_key_invalid")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_valid_key_shows_its_own_terminal_and_merchant(terminal_client):
    merchant = MerchantFactory(name="Harbourside Canteen", categories=["canteen", "uniform_shop"])
    client = terminal_client(merchant, label="Counter 2")

    response = client.get(TERMINAL)

    assert response.status_code == 200
    assert response.json() == {
        "terminal_id": client.terminal.pk,
        "label": "Counter 2",
        "merchant_id": merchant.pk,
        "merchant_name": "Harbourside Canteen",
        "merchant_categories": ["canteen", "uniform_shop"],
    }


def test_a_revoked_key_is_refused(terminal_client):
    client = terminal_client(MerchantFactory())
    terminal_revoke(terminal=client.terminal)

    assert_key_refused(client.get(TERMINAL))


@pytest.mark.parametrize(
    "raw_key",
    [
        "",
        "not-a-terminal-key",
        "tbx_term_",
        "tbx_term_abc_tooshort",
        "tbx_term_" + "p" * 17 + "_" + "s" * 43,  # prefix longer than any we issue
        "tbx_term_abc_" + "s" * 200,  # overlong
        "Bearer tbx_term_abc_" + "s" * 43,
    ],
)
def test_a_malformed_key_is_refused(raw_key):
    assert_key_refused(with_key(raw_key).get(TERMINAL))


def test_a_key_never_opens_another_merchants_terminal(terminal_client):
    client_a = terminal_client(MerchantFactory(name="A"))
    client_b = terminal_client(MerchantFactory(name="B"))

    assert client_a.get(TERMINAL).json()["merchant_name"] == "A"
    assert client_b.get(TERMINAL).json()["merchant_name"] == "B"
    # A's prefix with B's secret: the prefix finds A's row, the hash refuses the key.
    prefix_a = client_a.raw_key.rsplit("_", 1)[0]
    secret_b = client_b.raw_key.rsplit("_", 1)[1]
    assert_key_refused(with_key(f"{prefix_a}_{secret_b}").get(TERMINAL))


def test_a_key_of_an_inactive_merchant_is_refused(terminal_client):
    merchant = MerchantFactory()
    client = terminal_client(merchant)
    assert client.get(TERMINAL).status_code == 200

    merchant.is_active = False
    merchant.save(update_fields=["is_active"])

    assert_key_refused(client.get(TERMINAL))


def test_surrounding_whitespace_in_the_header_is_tolerated(terminal_client):
    client = terminal_client(MerchantFactory())
    assert with_key(f"  {client.raw_key} ").get(TERMINAL).status_code == 200
