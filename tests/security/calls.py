"""The request the matrix sends for each operation: the path filled with tenant A's objects, and a
body (the schema's own request example, with tenant A's ids put in where it names objects)."""

import json
import re
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tests.security.access import GUARDIAN, MERCHANT_ADMIN, PROGRAM_ADMIN, STAFF, TERMINAL
from tests.security.world import SERVICE_DAY, SIGNATURE, Tenant

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    example: dict | None

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


@cache
def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for path, item in schema()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(Operation(op["operationId"], method, path, _request_example(op)))
    return tuple(found)


def _request_example(op: dict) -> dict | None:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    examples = list(content.get("examples", {}).values())
    return examples[0]["value"] if examples else None


# Which kinds of caller of the object's own tenant the object belongs to. A caller of another
# tenant, or of a kind not listed, is a stranger to it.
PATH_OBJECTS = {
    "school_id": (lambda t: t.school.pk, {GUARDIAN, *STAFF}),
    "student_id": (lambda t: t.student.pk, {GUARDIAN, *STAFF}),
    "link_id": (lambda t: t.link.pk, {GUARDIAN, *STAFF}),
    "charge_id": (lambda t: t.charge.pk, {TERMINAL}),
    "topup_id": (lambda t: t.topup.pk, {GUARDIAN}),
    "program_id": (lambda t: t.program.pk, {PROGRAM_ADMIN}),
    "voucher_id": (lambda t: t.voucher.pk, {GUARDIAN}),
    "job_id": (lambda t: t.bulk_job.pk, {PROGRAM_ADMIN}),
    "approval_id": (lambda t: t.approval.pk, {PROGRAM_ADMIN}),
    "settlement_id": (lambda t: t.settlement.pk, {TERMINAL}),
    "run_id": (lambda t: t.settlement_run.pk, {PROGRAM_ADMIN}),
    "redemption_id": (lambda t: t.redemption.pk, {TERMINAL}),
    "order_id": (lambda t: t.order.pk, {GUARDIAN, *STAFF}),
    "item_id": (lambda t: t.menu_item.pk, set(STAFF)),
    "period_id": (lambda t: _default_period(t.school).pk, set(STAFF)),
    "event_id": (lambda t: t.event.pk, {GUARDIAN, *STAFF}),
    "signup_id": (lambda t: t.signup.pk, {GUARDIAN, *STAFF}),
    "consent_id": (lambda t: t.signup.consent.pk, {GUARDIAN, *STAFF}),
    "absence_id": (lambda t: t.absence.pk, {GUARDIAN, *STAFF}),
    "subscription_id": (lambda t: t.subscription.pk, {"staff:admin"}),
    "entry_id": (lambda t: t.audit_entry.pk, {"staff:admin"}),
    # Card acceptance: the school's own merchant (another school's answers 404).
    "merchant_id": (lambda t: t.merchant.pk, {"staff:admin"}),
    "terminal_id": (lambda t: t.terminal.pk, {MERCHANT_ADMIN}),
    "token": (lambda t: t.event_token, None),  # the signed link is the credential
}


def owners(op: Operation) -> set[str] | None:
    """The kinds of tenant A's callers the path's objects belong to (None: the path names a credential,
    not an object). The outermost object decides: /voucher-programs/{program_id}/vouchers/{voucher_id}
    is the program's administrators' business, not the holder's."""
    return PATH_OBJECTS[op.path_params[0]][1] if op.path_params else None


def path_for(op: Operation, t: Tenant) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(PATH_OBJECTS[m.group(1)][0](t)), op.path)


def _query(t: Tenant) -> dict:
    day = SERVICE_DAY.isoformat()
    return {
        "topup_quote": {"amount": 2000},
        "canteen_prep_list": {"date": day},
        "canteen_prep_list_csv": {"date": day},
        "canteen_labels_pdf": {"date": day},
        "canteen_day_close": {"date": day},
        "student_menu_retrieve": {"date": day},
        "voucher_uptake_retrieve": {"program_id": t.program.pk},
        "voucher_uptake_csv": {"program_id": t.program.pk},
    }


def _bodies(t: Tenant) -> dict:
    """Bodies that name tenant A's objects, so a stranger's call must not reach them."""
    items = [{"item_id": t.menu_item.pk, "quantity": 1}]
    return {
        "terminal_charge_create": {"card_identifier": t.card_number, "amount": 100, "categories": ["canteen"], "description": "Apple"},
        "terminal_canteen_sale": {"card_identifier": t.card_number, "items": items},
        "voucher_apply": {"student_id": t.student.pk, "declare_residency": True},
        "terminal_voucher_redeem": {
            "vouchers": [{"qr": t.voucher_qr, "date_of_birth": t.student.date_of_birth.isoformat()}],
            "amount": 100, "category": "sport", "description": "Swim",
        },
        "terminal_voucher_provider_apply": {
            "program_id": t.program.pk, "categories": ["sport"], "abn": "51824753556",
            "insurance_expires_on": "2030-06-30", "wwcc_expires_on": "2030-06-30",
        },
        "canteen_order_place": {"service_date": SERVICE_DAY.isoformat(), "items": items},
        "canteen_order_change": {"items": [{"item_id": t.menu_item.pk, "quantity": 2}]},
        "signup_create": {
            "student_id": t.student.pk, "form_hash": t.event.consent_form.content_hash, "answers": {"photo_ok": True},
            "signature": SIGNATURE, "typed_name": "Olivia Parent", "consent_statement_accepted": True,
        },
        "signup_decline": {"student_id": t.student.pk},
        "event_attendance_mark": {"marks": [{"signup_id": t.signup.pk, "attendance": "present"}]},
        "voucher_attestation_create": {"kind": "means_test", "user_id": t.link.guardian.user_id, "evidence": "FTB A letter"},
        "webhook_subscription_create": {
            "url": "http://127.0.0.1:9/sis/hooks", "event_types": ["voucher.redeemed"], "program_id": t.program.pk,
        },
        "voucher_bulk_issue_create": {"csv": f"school_code,student_number\n{t.school.code},{t.student.student_number}\n"},
    }


def request_for(op: Operation, t: Tenant) -> dict:
    """Keyword arguments for django.test.Client.generic (less the caller's headers)."""
    query = _query(t).get(op.operation_id)
    path = path_for(op, t)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    request = {"method": op.method.upper(), "path": path, "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    body = _bodies(t).get(op.operation_id, op.example)
    if op.method != "get" and body is not None:
        request.update(data=json.dumps(body), content_type="application/json")
    return request


def _default_period(school):
    from canteen.periods import default_period

    return default_period(school)
