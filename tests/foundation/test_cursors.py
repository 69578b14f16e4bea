"""A cursor that is not one of ours is a documented 400 `invalid_cursor`, on every cursor-paginated list."""

import base64
from pathlib import Path

import pytest
import yaml

from tests.foundation.callers import build_callers
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml").read_text())
PAGINATED = [
    (path, item["get"])
    for path, item in SCHEMA["paths"].items()
    if "get" in item and any(p["name"] == "cursor" and p["in"] == "query" for p in item["get"].get("parameters", []))
]
CALLERS = ("guardian", "staff", "program_admin", "terminal", "merchant_admin")


def cursor_of(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


MALFORMED = {
    "not base64": "%%%not-a-cursor%%%",
    "not ASCII once decoded": base64.b64encode("p=ü".encode()).decode(),
    "a forged position": cursor_of("p=abc"),
    "a forged negative position": cursor_of("p=-5"),
    "an injected position": cursor_of("p=1;2"),
    "a non-numeric offset": cursor_of("o=many"),
}


@pytest.fixture
def callers(client_for, terminal_client, settings):
    return build_callers(client_for, terminal_client, settings)


def _reader(callers, url: str):
    """The first kind of caller that may read this list."""
    for name in CALLERS:
        if callers.clients[name].get(url).status_code == 200:
            return callers.clients[name]
    raise AssertionError(f"no caller may read {url}: the probe would prove nothing")


def test_there_are_twenty_three_cursor_paginated_lists():
    # The nineteen of the edges issue, the audit log, the card-accepting merchants, a program's
    # settlement runs and a merchant's terminals: a list that loses its cursor parameter, or a new
    # one, is noticed here.
    assert len(PAGINATED) == 23


@pytest.mark.parametrize("path, operation", PAGINATED, ids=[op["operationId"] for _, op in PAGINATED])
def test_a_malformed_or_forged_cursor_is_400_invalid_cursor(callers, path, operation):
    url = callers.fill_schema_path(path)
    client = _reader(callers, url)

    for label, cursor in MALFORMED.items():
        body = assert_problem(client.get(url, {"cursor": cursor}), 400, "invalid_cursor")
        assert "first page" in body["detail"], label
    well_formed = client.get(url, {"cursor": cursor_of("p=1")})
    assert well_formed.status_code == 200, well_formed.content[:300]
    assert well_formed.json()["results"] == []  # nothing is older than id 1


@pytest.mark.parametrize("path, operation", PAGINATED, ids=[op["operationId"] for _, op in PAGINATED])
def test_every_cursor_paginated_operation_declares_invalid_cursor(path, operation):
    response = operation["responses"]["400"]

    assert "`invalid_cursor`" in response["description"]
    assert response["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
