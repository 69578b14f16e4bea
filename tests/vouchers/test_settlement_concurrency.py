"""Concurrency proofs on PostgreSQL: however many settlement runs of a program and day race (over
HTTP, from the nightly job, alongside new redemptions), each redemption is paid once."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from tests.concurrency import run_concurrently
from tests.factories import MerchantFactory, ProgramAdministratorFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import sydney
from tests.vouchers.factories import app_qr, approve, issue, make_program
from tests.wallet.conftest import assert_ledger_consistent
from vouchers import settlement_runs
from vouchers.models import Program, Redemption, Settlement, SettlementRun
from vouchers.payouts import voucher_payouts_account
from vouchers.redemption import Credential, voucher_redeem
from vouchers.settlement import settle_all
from wallet.models import LedgerTransaction
from wallet.reconciliation import reconciliation_run
from wallet.selectors import merchant_payable_balance
from wallet.terminal_keys import terminal_create

pytestmark = pytest.mark.django_db(transaction=True)

RUNNERS = 16
MERCHANTS = 3
REDEMPTIONS_PER_MERCHANT = 4
AMOUNT = 1500


@pytest.fixture
def redeemed(settings, clock_at):
    """A program, three merchants, four 15.00 redemptions each on 2 March; the clock then at 3 March 09:00."""
    settings.PAYMENT_GATEWAY = "fake"
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)
    merchants = []
    for i in range(MERCHANTS):
        merchant = MerchantFactory(name=f"Provider {i}", categories=["sport"])
        approve(program, merchant)
        terminal, _ = terminal_create(merchant=merchant, label="Till")
        for _ in range(REDEMPTIONS_PER_MERCHANT):
            [voucher] = issue(program)
            voucher_redeem(
                terminal=terminal, credentials=[Credential(qr=app_qr(voucher))], amount=AMOUNT, category="sport",
                description="Term fees", reference=f"test:{uuid.uuid4().hex}",
            )
        merchants.append(merchant)
    clock_at(sydney(2026, 3, 3, 9, 0))
    return admin, program, merchants


def admin_client(admin) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_new_session(admin.user)['access']}")
    return client


def assert_paid_once(program, merchants):
    run = SettlementRun.objects.get(program=program)
    assert Settlement.objects.count() == MERCHANTS == run.settlements.count()
    assert LedgerTransaction.objects.filter(kind="voucher_settlement").count() == MERCHANTS
    for merchant in merchants:
        settlement = Settlement.objects.get(merchant=merchant)
        assert settlement.amount == AMOUNT * REDEMPTIONS_PER_MERCHANT
        assert set(Redemption.objects.filter(merchant=merchant).values_list("settlement", flat=True)) == {settlement.pk}
        assert merchant_payable_balance(merchant) == 0
    assert voucher_payouts_account().balance == AMOUNT * REDEMPTIONS_PER_MERCHANT * MERCHANTS
    assert reconciliation_run().ok
    assert_ledger_consistent()
    return run


def test_sixteen_administrators_running_one_day_at_once_make_one_run(redeemed):
    admin, program, merchants = redeemed
    clients = [admin_client(admin) for _ in range(RUNNERS)]

    def attempt(i):
        response = clients[i].post(
            f"/api/v1/voucher-programs/{program.pk}/settlement-runs", {"business_date": "2026-03-02"}, format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        return response.status_code, response.json()["id"]

    outcomes = run_concurrently(attempt, RUNNERS)

    run = assert_paid_once(program, merchants)
    assert Counter(status for status, _ in outcomes) == Counter({201: 1, 200: RUNNERS - 1})
    assert {run_id for _, run_id in outcomes} == {run.pk}


def test_the_nightly_job_and_administrators_racing_pay_each_redemption_once(redeemed):
    admin, program, merchants = redeemed
    clients = [admin_client(admin) for _ in range(RUNNERS // 2)]

    def attempt(i):
        if i % 2:
            return "job", len(settle_all(started_by="schedule"))
        response = clients[i // 2].post(
            f"/api/v1/voucher-programs/{program.pk}/settlement-runs", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        return "api", response.status_code

    outcomes = Counter(run_concurrently(attempt, RUNNERS))

    run = assert_paid_once(program, merchants)
    made_by_job = outcomes[("job", MERCHANTS)]
    made_by_api = outcomes[("api", 201)]
    assert made_by_job + made_by_api == 1  # one caller made the run, whoever it was
    assert outcomes[("job", 0)] == RUNNERS // 2 - made_by_job and outcomes[("api", 200)] == RUNNERS // 2 - made_by_api
    assert run.started_by == ("schedule" if made_by_job else "api")


def test_redemptions_made_during_a_run_wait_for_the_next_one(redeemed):
    """Today's redemptions race the run of yesterday: the run pays yesterday's only, each once."""
    admin, program, merchants = redeemed
    terminal, _ = terminal_create(merchant=merchants[0], label="Second till")
    vouchers = [issue(program)[0] for _ in range(RUNNERS // 2)]
    clients = [admin_client(admin) for _ in range(RUNNERS // 2)]

    def attempt(i):
        if i % 2:
            return clients[i // 2].post(
                f"/api/v1/voucher-programs/{program.pk}/settlement-runs", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
            ).status_code
        voucher_redeem(
            terminal=terminal, credentials=[Credential(qr=app_qr(vouchers[i // 2]))], amount=AMOUNT, category="sport",
            description="Today", reference=f"test:{uuid.uuid4().hex}",
        )
        return "redeemed"

    outcomes = Counter(run_concurrently(attempt, RUNNERS))

    assert outcomes == Counter({"redeemed": RUNNERS // 2, 201: 1, 200: RUNNERS // 2 - 1})
    run = SettlementRun.objects.get(program=program)
    assert Settlement.objects.count() == MERCHANTS
    assert Redemption.objects.filter(settlement__isnull=True).count() == RUNNERS // 2
    assert merchant_payable_balance(merchants[0]) == AMOUNT * RUNNERS // 2
    assert sum(s.amount for s in run.settlements.all()) == AMOUNT * REDEMPTIONS_PER_MERCHANT * MERCHANTS
    assert voucher_payouts_account().balance == AMOUNT * REDEMPTIONS_PER_MERCHANT * MERCHANTS
    assert reconciliation_run().ok
    assert_ledger_consistent()


def test_a_run_waiting_too_long_for_another_is_told_to_retry(redeemed, monkeypatch):
    """The program's row is held by a run that takes its time: the waiting request gets 409, not a hang."""
    admin, program, merchants = redeemed
    monkeypatch.setattr(settlement_runs, "LOCK_TIMEOUT", "300ms")
    holding, release = threading.Event(), threading.Event()

    def hold_the_program():
        try:
            with transaction.atomic():
                Program.objects.select_for_update(no_key=True).filter(pk=program.pk).get()
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_program)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        response = admin_client(admin).post(
            f"/api/v1/voucher-programs/{program.pk}/settlement-runs", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
    finally:
        release.set()
        holder.join()

    assert_problem(response, 409, "settlement_in_progress")
    assert not SettlementRun.objects.exists() and not Redemption.objects.filter(settlement__isnull=False).exists()
    retried = admin_client(admin).post(
        f"/api/v1/voucher-programs/{program.pk}/settlement-runs", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert retried.status_code == 201
    assert_paid_once(program, merchants)
