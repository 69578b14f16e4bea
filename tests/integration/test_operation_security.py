"""Each operation's `security` in the committed schema names exactly the credentials the API accepts.

Every operation is called three times through the whole Django stack: with no credentials, with
a person's bearer token (a user who is a guardian, staff with every role, a merchant administrator, a program
administrator and platform staff at once, so that any permission for people lets them in) and
with a terminal's key. A credential is accepted when the answer is neither a 401 nor a 403
`permission_denied`: permissions run before the handler, so a 400, 404 or 422 on the made-up ids
and empty bodies still means the caller got through the door.
"""

import uuid

import pytest
import yaml
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from guardians.models import StaffRole
from tests.factories import (
    GuardianFactory,
    MerchantAdministratorFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
)
from tests.integration.toolchain import SCHEMA
from wallet.terminal_keys import terminal_create

# Durable transactions in services refuse to nest in a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

METHODS = ("get", "post", "put", "patch", "delete")
SCHEME_OF_CALLER = {"person": "bearerAuth", "terminal": "terminalKey"}


def _operations():
    schema = yaml.safe_load(SCHEMA.read_text())
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _concrete(path: str, operation: dict) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter.get("schema", {})
        value = "999999" if schema.get("type") == "integer" else str(uuid.uuid4()) if schema.get("format") == "uuid" else "zz9"
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


@pytest.fixture
def callers():
    school = SchoolFactory()
    person = StaffFactory(school=school, roles=[role.value for role in StaffRole]).user
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    GuardianFactory(user=person)
    ProgramAdministratorFactory(user=person)
    merchant = MerchantFactory(school=school)
    MerchantAdministratorFactory(user=person, merchant=merchant)
    _, terminal_key = terminal_create(merchant=merchant, label="Till")

    def headers(caller: str) -> dict:
        if caller == "person":  # a new session each call: one operation is signing out
            return {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_new_session(person)['access']}"}
        if caller == "terminal":
            return {"HTTP_X_TERMINAL_KEY": terminal_key}
        return {}

    return headers


def _lets_in(response) -> bool:
    if response.status_code == 401:
        return False
    return not (response.status_code == 403 and response.json().get("code") == "permission_denied")


def test_every_operation_declares_exactly_the_credentials_it_accepts(callers):
    client = APIClient()
    wrong = []
    count = 0
    for path, method, operation in _operations():
        count += 1
        url = _concrete(path, operation)
        if "security" not in operation:  # OpenAPI would read the document's default: say it per operation
            wrong.append(f"{method.upper()} {path}: no security")
            continue
        declared = {scheme for requirement in operation["security"] for scheme in requirement}
        for caller in ("anonymous", "person", "terminal"):
            response = getattr(client, method)(
                url, {} if method != "get" else None, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **callers(caller)
            )
            expected = not declared if caller == "anonymous" else SCHEME_OF_CALLER[caller] in declared or not declared
            if _lets_in(response) != expected:
                wrong.append(f"{method.upper()} {path} as {caller}: {response.status_code}, declared {sorted(declared) or 'public'}")
    assert count > 100
    assert not wrong, "\n".join(wrong)
