"""Never a 500, whatever the method, the body or the caller.

Three probes over the whole project:
- OPTIONS to every URL pattern (Django's resolver, parameters filled with real ids), as each kind of caller;
- every POST, PUT and PATCH of the committed OpenAPI document, with hostile bodies: nesting far
  beyond the parser's limit, numbers no column holds, non-finite and NaN literals, lone surrogates,
  NUL characters, invalid UTF-8, a body that is not an object;
- every operation with ids and query values far out of range.
"""

from pathlib import Path

import pytest
import yaml

from tests.foundation.callers import build_callers, url_routes

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml").read_text())
COMPONENTS = SCHEMA["components"]["schemas"]
CALLERS = ("anonymous", "guardian", "staff", "program_admin", "terminal", "merchant_admin")
HUGE_ID = str(10**25)
BODY_METHODS = {"post", "put", "patch"}

# Raw bodies, and values put into every property of an operation's request body.
RAW_BODIES = {
    "array nested 1,000 deep (2 KB)": "[" * 1000 + "]" * 1000,
    "object nested 1,000 deep": '{"a":' * 1000 + "1" + "}" * 1000,
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "not an object": "[1, 2]",
}
PROPERTY_VALUES = {
    "10**5000": "1" + "0" * 5000,
    "1e400": "1e400",
    "NaN": "NaN",
    "2**63": str(2**63),
    "2**63-1": str(2**63 - 1),
    "2**31": str(2**31),
    "-0": "-0",
    "lone surrogate": '"\\ud800"',
    "NUL character": '"a\\u0000b"',
    "object nested 1,000 deep": '{"a":' * 1000 + "1" + "}" * 1000,
}


def _operations():
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _body_properties(operation) -> list[str]:
    for content in operation.get("requestBody", {}).get("content", {}).values():
        schema = content["schema"]
        schema = COMPONENTS.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
        return list(schema.get("properties", {})) or ["value"]
    return ["value"]


def hostile_bodies(operation):
    yield from RAW_BODIES.items()
    for label, value in PROPERTY_VALUES.items():
        yield label, "{" + ",".join(f'"{name}": {value}' for name in _body_properties(operation)) + "}"


def _server_errors(responses) -> list:
    return [(label, response.status_code, response.content[:200]) for label, response in responses if response.status_code >= 500]


@pytest.fixture
def callers(client_for, terminal_client, settings):
    return build_callers(client_for, terminal_client, settings)


def test_the_probes_cover_the_whole_project():
    routes = list(url_routes())
    body_operations = [op for _, method, op in _operations() if method in BODY_METHODS]

    assert len(routes) > 300 and sum(route.startswith("api/v1/") for route in routes) > 100
    assert len(body_operations) > 70 and sum("requestBody" in op for op in body_operations) > 50


@pytest.mark.parametrize("caller", CALLERS)
def test_options_on_every_url_pattern_is_never_a_server_error(callers, caller):
    client = callers.clients[caller]
    responses = [(route, client.options(callers.fill(route))) for route in url_routes()]

    assert _server_errors(responses) == []
    assert all(response.status_code < 500 for _, response in responses)


@pytest.mark.parametrize("caller", CALLERS)
def test_hostile_bodies_on_every_operation_are_never_a_server_error(callers, caller):
    client = callers.clients[caller]
    responses = []
    for number, (path, method, operation) in enumerate(_operations()):
        if method not in BODY_METHODS:
            continue
        url = callers.fill_schema_path(path)
        for label, body in hostile_bodies(operation):
            headers = {"HTTP_IDEMPOTENCY_KEY": f"probe-{number}-{len(responses)}"}
            response = getattr(client, method)(url, body, content_type="application/json", **headers)
            responses.append((f"{method.upper()} {path}: {label}", response))

    assert _server_errors(responses) == []


@pytest.mark.parametrize("caller", CALLERS)
def test_out_of_range_ids_and_query_values_are_never_a_server_error(callers, caller):
    client = callers.clients[caller]
    responses = []
    for path, method, operation in _operations():
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for ids in (None, HUGE_ID):
            url = callers.fill_schema_path(path, ids=ids)
            for value in (HUGE_ID, "1e400", "x", "0001-01-01"):
                response = getattr(client, method)(url, {name: value for name in query} if method == "get" else None)
                responses.append((f"{method.upper()} {url}?{value}", response))
                if not query or method != "get":
                    break

    assert _server_errors(responses) == []


# The seven views that answered OPTIONS with a 500 (GenericAPIViews without a serializer_class).
SERIALIZERLESS = [
    ("terminal", "terminal/charges"),
    ("terminal", "terminal/voucher-redemptions"),
    ("guardian", "students/{student_id}/orders"),
    ("staff", "canteen/menu-items"),
    ("staff", "events"),
    ("staff", "announcements"),
    ("staff", "webhooks/subscriptions"),
]


@pytest.mark.parametrize("caller, route", SERIALIZERLESS)
def test_options_describes_the_operation_and_leaves_its_fields_to_the_schema(callers, caller, route):
    response = callers.clients[caller].options("/api/v1/" + route.format(**callers.ids))

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert set(body) == {"name", "description", "renders", "parses"}
    assert (body["renders"], body["parses"]) == (["application/json"], ["application/json"])
    assert {"GET", "POST", "OPTIONS"} <= {method.strip() for method in response["Allow"].split(",")}


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_options_on_a_documentation_page_lists_its_methods(page, api_client):
    response = api_client.options(page)

    assert response.status_code == 200
    assert response.content == b""
    assert "GET" in response["Allow"]
