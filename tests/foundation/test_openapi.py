"""The committed OpenAPI document is the contract third-party clients are generated from."""

import importlib.util
import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

from openapi import error_catalogue

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}



@pytest.fixture(scope="module")
def fresh_schema_text():
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def schema():
    return yaml.safe_load(COMMITTED.read_text())


def test_committed_schema_is_current(fresh_schema_text):
    assert COMMITTED.read_text() == fresh_schema_text, "openapi/openapi.yaml is stale: run `make openapi` and commit it"


def test_schema_is_valid_openapi(schema):
    validate(schema)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_is_fully_described(schema):
    problems = []
    for name, operation in _operations(schema):
        if not operation.get("operationId"):
            problems.append(f"{name}: no operationId")
        if not operation.get("tags"):
            problems.append(f"{name}: no tags")
        if not operation.get("summary"):
            problems.append(f"{name}: no summary")
        responses = operation.get("responses", {})
        if not any(code.startswith("2") for code in responses):
            problems.append(f"{name}: no success response")
        if not any(int(code) >= 400 for code in responses):
            problems.append(f"{name}: no error response")
        for code, response in responses.items():
            if int(code) >= 400 and "application/problem+json" not in response.get("content", {}):
                problems.append(f"{name}: {code} is not problem+json")
        has_example = any(
            "examples" in content or "example" in content
            for part in [operation.get("requestBody", {}), *responses.values()]
            for content in part.get("content", {}).values()
        )
        if not has_example and responses.get("204") is None:
            problems.append(f"{name}: no example")
    assert not problems, "\n".join(problems)


def test_operation_ids_are_unique(schema):
    ids = [operation["operationId"] for _, operation in _operations(schema)]
    assert len(ids) == len(set(ids))


def test_every_operation_names_the_schemes_it_accepts(schema):
    """Each operation says which credentials it takes (openapi/security.py derives them from the view's
    permissions; tests/integration/test_operation_security.py calls every operation with each)."""
    schemes = set(schema["components"]["securitySchemes"])
    assert schemes == {"bearerAuth", "terminalKey"}
    kinds = {}
    for name, operation in _operations(schema):
        assert "security" in operation, name
        requirements = operation["security"]
        assert all(len(requirement) == 1 and set(requirement) <= schemes for requirement in requirements), name
        kinds[name] = {scheme for requirement in requirements for scheme in requirement}
        assert "401" in operation["responses"] or not requirements, name
    assert kinds["POST /api/v1/terminal/charges"] == {"terminalKey"}
    assert kinds["POST /api/v1/students/{student_id}/card/fund"] == {"bearerAuth"}
    assert kinds["POST /api/v1/auth/token"] == set()
    assert sum(1 for k in kinds.values() if k == {"terminalKey"}) >= 15


def _has_example(content: dict) -> bool:
    return "examples" in content or "example" in content


def test_every_operation_has_a_description_and_examples_of_what_it_takes_and_gives(schema):
    """What a developer who has never seen our code needs next to each operation (third-party clients)."""
    problems = []
    for name, operation in _operations(schema):
        label = f"{name} ({operation.get('operationId')})"
        if not (operation.get("description") or "").strip():
            problems.append(f"{label}: no description")
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            if not _has_example(content):
                problems.append(f"{label}: no example of its {media_type} request")
        for code, response in operation.get("responses", {}).items():
            json_body = response.get("content", {}).get("application/json")
            if code.startswith("2") and json_body is not None and not _has_example(json_body):
                problems.append(f"{label}: no example of its {code} answer")
            if int(code) >= 400 and not response.get("description", "").startswith("Error codes: "):
                problems.append(f"{label}: {code} does not list its error codes")
    assert not problems, "\n".join(problems)


def _properties(node, name=""):
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{name}.{key}", value
        for key, value in node.items():
            yield from _properties(value, f"{name}.{key}" if name else key)
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, name)


def test_wall_clock_times_are_patterned_strings_not_rfc3339_times(schema):
    """RFC 3339's `time` needs a UTC offset; a school's cut-off is a local wall-clock time without one."""
    properties = dict(_properties(schema))
    timed = {name for name, field in properties.items() if field.get("format") == "time"}
    cutoffs = [field for name, field in properties.items() if name.endswith(("canteen_cutoff", "late_cutoff"))]

    assert timed == set()
    assert len(cutoffs) >= 5  # the school, the canteen settings (read and write, both cut-offs)
    for field in cutoffs:
        assert field["type"] == "string" and field["description"]
        pattern = re.compile(field["pattern"])
        assert pattern.match("08:30:00") and pattern.match("08:30") and pattern.match("23:59:59.5")
        assert not pattern.match("08:30:00Z") and not pattern.match("08:30:00+11:00") and not pattern.match("24:00")


# --- Error codes: declared once, documented in docs/api.md and in the schema ------------------

GUIDE = COMMITTED.parents[1] / "docs" / "api.md"
CODE_IN_TEXT = re.compile(r"`([a-z][a-z0-9_]*)`")


def _listed_codes(schema) -> dict[str, set[int]]:
    """Code -> the statuses under which some operation lists it (or, for a job's row codes, its description)."""
    listed: dict[str, set[int]] = {}
    for _, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                for code in CODE_IN_TEXT.findall(response.get("description", "")):
                    listed.setdefault(code, set()).add(int(status))
        for code in CODE_IN_TEXT.findall(operation.get("description", "")):
            listed.setdefault(code, set())
    return listed


def test_no_domain_code_is_minted_where_it_is_raised():
    """A code is a class in its app's errors.py, not a `code=` at the raise (openapi/error_catalogue.py)."""
    assert error_catalogue.inline_domain_mints() == []


def test_every_code_raised_anywhere_is_declared():
    """Codes given to problems and HTTP exceptions in api/ are in api/errors.py's HTTP_CODES."""
    assert error_catalogue.undeclared() == []


def test_the_guide_lists_every_declared_code():
    spec = importlib.util.spec_from_file_location("error_codes", COMMITTED.parents[1] / "scripts" / "error_codes.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = GUIDE.read_text()
    assert text == script.guide_with_table(text), "docs/api.md's error table is stale: run `make openapi`"
    documented = set(re.findall(r"^\| [^|]+ \| \d{3} \| `([a-z0-9_]+)` \|", text, re.MULTILINE))
    assert {c.code for c in error_catalogue.catalogue()} <= documented


def test_every_code_an_operation_can_return_is_in_the_schema(schema):
    missing = error_catalogue.codes_operations_can_return() - set(_listed_codes(schema))
    assert not missing, f"raised but listed by no operation: {sorted(missing)}"


def test_operations_list_codes_under_the_status_they_are_answered_with(schema):
    statuses: dict[str, set[int]] = {}
    for code in error_catalogue.catalogue():
        statuses.setdefault(code.code, set()).add(code.status)
    wrong = [
        f"{name} {status}: `{code}` is {sorted(statuses.get(code, [])) or 'not a declared code'}"
        for name, operation in _operations(schema)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for code in CODE_IN_TEXT.findall(response.get("description", ""))
        if int(status) not in statuses.get(code, set())
    ]
    assert not wrong, "\n".join(wrong)
