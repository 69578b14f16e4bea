"""schemathesis over every operation of openapi/openapi.yaml, as each kind of caller, in-process
against the Django WSGI application: the document must describe the API truthfully.

Each generated request must get an answer that is not a server error, whose status code the
operation documents, whose content type and headers are those documented for that status, and
whose body matches the documented schema. `make test` sends a few derandomized examples per
operation and caller; `TUCKBOX_FUZZ=1` sends many more (`TUCKBOX_FUZZ_EXAMPLES`, 200 by default),
randomized, as both tenants' callers.
"""

import os
import uuid

import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.calls import Operation, operations, schema
from tests.security.world import WorldTestCase

LONG_RUN = os.environ.get("TUCKBOX_FUZZ") == "1"
EXAMPLES = int(os.environ.get("TUCKBOX_FUZZ_EXAMPLES", 200 if LONG_RUN else 2))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


SCHEMA = schemathesis.openapi.from_dict(schema())
APP = get_wsgi_application()

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if LONG_RUN else [])],
    suppress_health_check=list(HealthCheck),
)


def http_headers(wsgi_headers: dict) -> dict:
    """HTTP_X_TERMINAL_KEY -> X-Terminal-Key."""
    return {name.removeprefix("HTTP_").replace("_", "-").title(): value for name, value in wsgi_headers.items()}


def fuzz_as(operation, headers: dict, checks: list) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def run(case):
        ApiFuzz.examples_sent += 1
        response = case.call(app=APP, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        case.validate_response(response, checks=checks)

    run()


class ApiFuzz(WorldTestCase):
    examples_sent = 0

    @classmethod
    def setUpClass(cls):
        # The real WSGI handler closes the database connection when a request ends; that would end
        # the test's transaction too. Django's own test client disconnects the same receiver.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        print(f"\nschemathesis: {cls.examples_sent} examples sent")  # shown with -s

    def callers(self):
        if LONG_RUN:
            return self.world.principals
        first_of_kind = {}
        for principal in self.world.principals:
            if principal.tenant != "b":
                first_of_kind.setdefault(principal.kind, principal)
        return list(first_of_kind.values())

    def fuzz(self, op: Operation):
        operation = SCHEMA[op.path][op.method.upper()]
        checks = CHECKS
        failures = []
        for principal in self.callers():
            try:
                fuzz_as(operation, http_headers(principal.headers), checks)
            except Exception as failure:  # noqa: BLE001 - every caller's failure is reported, not just the first
                failures.append(f"as {principal.name}: {failure}")
        self.assertEqual(failures, [], f"{op.method.upper()} {op.path}\n" + "\n\n".join(failures))


def _test_for(op: Operation):
    def test(self):
        self.fuzz(op)

    test.__name__ = f"test_{op.operation_id}"
    return test


for _op in operations():
    setattr(ApiFuzz, f"test_{_op.operation_id}", _test_for(_op))
