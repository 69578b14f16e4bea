"""Concurrency proofs on PostgreSQL: a voucher is redeemed exactly once however many terminals race,
and a child is issued one period's vouchers however many applications race."""

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from tests.concurrency import run_concurrently
from tests.factories import GuardianLinkFactory, MerchantFactory, ProgramAdministratorFactory, StudentFactory
from tests.vouchers.factories import app_qr, approve, issue, make_program, program_money
from tests.wallet.conftest import assert_ledger_consistent
from vouchers.models import Redemption, RedemptionLine, Voucher, VoucherState
from wallet import accounts
from wallet.terminal_keys import terminal_create

pytestmark = pytest.mark.django_db(transaction=True)

TERMINALS = 50


@pytest.mark.parametrize("use_rule", ["single_use", "partial"])
def test_fifty_terminals_redeeming_one_voucher_give_one_success(use_rule):
    program = make_program(use_rule=use_rule)
    merchant = MerchantFactory(categories=["sport"])
    approve(program, merchant)
    [voucher] = issue(program)
    keys = [terminal_create(merchant=merchant, label=f"Till {i}")[1] for i in range(TERMINALS)]
    payload = app_qr(voucher)
    amount = 8000 if use_rule == "single_use" else voucher.face_value

    def attempt(i):
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=keys[i])
        response = client.post(
            "/api/v1/terminal/voucher-redemptions",
            {"vouchers": [{"qr": payload}], "amount": amount},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        return response.status_code, response.json().get("code")

    outcomes = Counter(run_concurrently(attempt, TERMINALS))

    assert outcomes == Counter({(201, None): 1, (409, "voucher_already_redeemed"): TERMINALS - 1})
    voucher.refresh_from_db()
    assert voucher.state == VoucherState.REDEEMED and voucher.remaining_value == 0
    assert Redemption.objects.count() == 1 and RedemptionLine.objects.count() == 1
    assert accounts.merchant_payable(merchant).balance == amount
    assert program_money(program) == -amount
    assert_ledger_consistent()


def test_partial_redemptions_racing_never_overspend():
    program = make_program(use_rule="partial")
    merchant = MerchantFactory(categories=["sport"])
    approve(program, merchant)
    [voucher] = issue(program)
    key = terminal_create(merchant=merchant, label="Till")[1]
    payload = app_qr(voucher)

    def attempt(_):
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=key)
        response = client.post(
            "/api/v1/terminal/voucher-redemptions", {"vouchers": [{"qr": payload}], "amount": 3000}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        return response.status_code, response.json().get("code")

    outcomes = Counter(run_concurrently(attempt, 20))

    # 10000 holds three 3000s; every later one finds 1000 left.
    assert outcomes[(201, None)] == 3
    assert outcomes[(422, "amount_exceeds_remaining")] == 17
    voucher.refresh_from_db()
    assert voucher.remaining_value == 1000
    assert_ledger_consistent()


def test_racing_applications_issue_one_set_of_vouchers():
    program = make_program(admin=ProgramAdministratorFactory(), vouchers_per_period=2)
    student = StudentFactory()
    links = [GuardianLinkFactory(student=student) for _ in range(2)]
    tokens = [tokens_for_new_session(link.guardian.user)["access"] for link in links for _ in range(5)]

    def attempt(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[i]}")
        response = client.post(f"/api/v1/voucher-programs/{program.pk}/applications", {"student_id": student.pk}, format="json")
        return response.status_code, response.json().get("code") if response.status_code != 201 else len(response.json())

    outcomes = Counter(run_concurrently(attempt, len(tokens)))

    assert outcomes == Counter({(201, 2): 1, (409, "already_issued_this_period"): len(tokens) - 1})
    assert Voucher.objects.filter(student=student).count() == 2
