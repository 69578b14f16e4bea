"""Who may call which voucher endpoint, and whose objects they reach.

Every route in api/routes/vouchers.py is listed with the status each kind of caller
gets. Another tenant's object (another family's voucher, another merchant's
redemption or settlement, another administrator's program) is a 404, never a 403.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern

from api.routes import vouchers as voucher_routes
from tests.factories import GuardianLinkFactory, MerchantFactory, ProgramAdministratorFactory, StaffFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import redeem
from tests.vouchers.factories import app_qr, issue, settle_today
from vouchers import issuing

pytestmark = pytest.mark.django_db

API = "/api/v1"
CALLERS = ("anonymous", "terminal", "other_terminal", "guardian", "other_guardian", "program_admin", "other_program_admin", "staff")
PERSONS = ("guardian", "other_guardian", "program_admin", "other_program_admin", "staff")
DEFAULT_CODES = {400: "validation_error", 401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


def expect(anonymous=401, terminals=403, persons=403, **cells) -> dict:
    table = {"anonymous": anonymous, "terminal": terminals, "other_terminal": terminals, **{p: persons for p in PERSONS}}
    table.update(cells)
    return table


def admins_only(status, **cells):
    return expect(program_admin=status, other_program_admin=404, **cells)


def holder_only(status):
    return expect(persons=404, guardian=status)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    expect: dict
    body: dict | None = None


ENDPOINTS = [
    Endpoint("voucher-programs", "get", "/voucher-programs", expect(terminals=200, persons=200)),
    Endpoint("voucher-programs", "post", "/voucher-programs", expect(program_admin=400, other_program_admin=400), {}),
    Endpoint("voucher-program-detail", "get", "/voucher-programs/{program}", expect(terminals=200, persons=200)),
    Endpoint("voucher-program-detail", "patch", "/voucher-programs/{program}", admins_only(200), {"description": "Sport"}),
    Endpoint("voucher-program-applications", "post", "/voucher-programs/{program}/applications", expect(persons=(422, "wrong_beneficiary_kind")), {}),
    Endpoint("voucher-program-vouchers", "get", "/voucher-programs/{program}/vouchers", admins_only(200)),
    Endpoint("voucher-revoke", "post", "/voucher-programs/{program}/vouchers/{voucher}/revoke", admins_only((409, "voucher_state_invalid")), {}),
    Endpoint("voucher-cancel", "post", "/voucher-programs/{program}/vouchers/{voucher}/cancel", admins_only((409, "voucher_state_invalid")), {}),
    Endpoint("voucher-bulk-issues", "post", "/voucher-programs/{program}/bulk-issues", admins_only(400), {}),
    Endpoint("voucher-bulk-issue-detail", "get", "/voucher-bulk-issues/{job}", admins_only(200)),
    Endpoint("voucher-attestations", "post", "/voucher-attestations", expect(program_admin=400, other_program_admin=400), {}),
    Endpoint("voucher-program-providers", "get", "/voucher-programs/{program}/providers", admins_only(200)),
    Endpoint("voucher-provider-approve", "post", "/voucher-programs/{program}/providers/{approval}/approve", admins_only(400), {}),
    Endpoint("voucher-provider-reject", "post", "/voucher-programs/{program}/providers/{approval}/reject", admins_only((409, "approval_state_invalid")), {}),
    Endpoint("voucher-provider-suspend", "post", "/voucher-programs/{program}/providers/{approval}/suspend", admins_only(200), {}),
    Endpoint("voucher-provider-reinstate", "post", "/voucher-programs/{program}/providers/{approval}/reinstate", admins_only(200), {}),
    Endpoint("voucher-uptake", "get", "/voucher-reports/uptake", expect(program_admin=200, other_program_admin=200)),
    Endpoint("voucher-uptake-csv", "get", "/voucher-reports/uptake.csv", expect(program_admin=200, other_program_admin=200)),
    Endpoint("vouchers", "get", "/vouchers", expect(persons=200)),
    Endpoint("voucher-detail", "get", "/vouchers/{voucher}", holder_only(200)),
    Endpoint("voucher-code", "get", "/vouchers/{voucher}/code", holder_only(409)),  # redeemed by the set-up
    Endpoint("voucher-qr-png", "get", "/vouchers/{voucher}/qr.png", holder_only(409)),
    Endpoint("voucher-qr-svg", "get", "/vouchers/{voucher}/qr.svg", holder_only(409)),
    Endpoint("voucher-keys", "get", "/voucher-keys", {caller: 200 for caller in CALLERS}),
    Endpoint("terminal-voucher-preview", "post", "/terminal/vouchers/preview", expect(terminals=400), {}),
    Endpoint("terminal-voucher-redemptions", "get", "/terminal/voucher-redemptions", expect(terminals=200)),
    Endpoint("terminal-voucher-redemptions", "post", "/terminal/voucher-redemptions", expect(terminals=400), {}),
    Endpoint(
        "terminal-voucher-redemption-void",
        "post",
        "/terminal/voucher-redemptions/{redemption}/void",
        expect(terminal=200, other_terminal=(404, "redemption_not_found")),
    ),
    Endpoint("terminal-voucher-provider-applications", "get", "/terminal/voucher-provider-applications", expect(terminals=200)),
    Endpoint("terminal-voucher-provider-applications", "post", "/terminal/voucher-provider-applications", expect(terminals=400), {}),
    Endpoint("terminal-voucher-settlements", "get", "/terminal/voucher-settlements", expect(terminals=200)),
    Endpoint("terminal-voucher-settlement-detail", "get", "/terminal/voucher-settlements/{settlement}", expect(terminal=200, other_terminal=404)),
    Endpoint(
        "terminal-voucher-settlement-statement", "get", "/terminal/voucher-settlements/{settlement}/statement.csv", expect(terminal=200, other_terminal=404)
    ),
    Endpoint("terminal-voucher-balance", "get", "/terminal/voucher-balance", expect(terminals=200)),
]


@pytest.fixture
def objects(world, terminal_client, client_for, fake_gateway):
    """A voucher of the guardian's, redeemed at the merchant and settled; a bulk job."""
    [voucher] = issue(world.program, link=world.link)
    redemption_id = redeem(world.terminal_client, [{"qr": app_qr(voucher)}], voucher.face_value).json()["redemption_id"]
    settlement = settle_today(world.program).settlements.get()
    job = issuing.bulk_issue_job_create(program=world.program, created_by=world.admin.user, csv_text="school_code,student_number\nx,y\n")
    callers = {
        "anonymous": None,
        "terminal": world.terminal_client,
        "other_terminal": terminal_client(MerchantFactory(categories=["sport"])),
        "guardian": world.guardian_client,
        "other_guardian": client_for(GuardianLinkFactory().guardian.user),
        "program_admin": world.admin_client,
        "other_program_admin": client_for(ProgramAdministratorFactory().user),
        "staff": client_for(StaffFactory(school=world.school).user),
    }
    ids = {"program": world.program.pk, "voucher": voucher.pk, "redemption": redemption_id, "settlement": settlement.pk, "job": job.pk, "approval": world.approval.pk}
    return callers, ids


def test_the_matrix_covers_every_voucher_route_and_every_caller():
    declared = set()
    for pattern in voucher_routes.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class
        declared |= {(pattern.name, method) for method in ("get", "post", "put", "patch", "delete") if hasattr(view, method)}
    assert sorted(declared) == sorted({(e.name, e.method) for e in ENDPOINTS})
    for endpoint in ENDPOINTS:
        assert set(endpoint.expect) == set(CALLERS), endpoint.name


@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method.upper()} {e.path}")
def test_who_may_call_what(objects, endpoint, caller_name, api_client):
    callers, ids = objects
    client = callers[caller_name] or api_client
    expected = endpoint.expect[caller_name]
    status, code = expected if isinstance(expected, tuple) else (expected, DEFAULT_CODES.get(expected))

    extra = {"HTTP_IDEMPOTENCY_KEY": f"matrix-{caller_name}"} if endpoint.method == "post" else {}
    response = getattr(client, endpoint.method)(API + endpoint.path.format(**ids), endpoint.body, format="json", **extra)

    if status >= 400 and code:
        assert_problem(response, status, code)
    else:
        assert response.status_code == status, (response.status_code, response.content[:300])
