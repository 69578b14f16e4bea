"""Settlement over HTTP: a program administrator previews, runs and reads a program's settlement
runs; each run reconciles to the ledger; merchants download their own remittances only."""

import csv
import io
import uuid

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from core.models import OutboxJob
from tests.factories import GuardianLinkFactory, MerchantFactory, ProgramAdministratorFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import redeem, sydney
from tests.vouchers.factories import app_qr, approve, issue, make_program
from tests.wallet.conftest import assert_ledger_consistent
from vouchers.models import PayoutDestination, Redemption, Settlement, SettlementRun
from vouchers.payouts import voucher_payouts_account
from vouchers.settlement_reads import RUN_CSV_COLUMNS
from vouchers.tasks import settlement_run_pay
from wallet import accounts
from wallet.models import Entry, LedgerTransaction
from wallet.reconciliation import reconciliation_run
from wallet.selectors import merchant_payable_balance

pytestmark = pytest.mark.django_db


def spend(program, client, amount):
    [voucher] = issue(program)
    response = redeem(client, [{"qr": app_qr(voucher)}], amount)
    assert response.status_code == 201, response.content
    return response.json()["redemption_id"]


def base(program) -> str:
    return f"/api/v1/voucher-programs/{program.pk}"


def run_post(client, program, body=None, key=None):
    return client.post(f"{base(program)}/settlement-runs", body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


@pytest.fixture
def two_merchants(world, terminal_client):
    """Harbourside (the world's) takes 6000 + 2500, Banksia Dance 4000, all on 2 March."""
    banksia = MerchantFactory(name="Banksia Dance", categories=["sport"])
    approve(world.program, banksia)
    banksia_client = terminal_client(banksia)
    spend(world.program, world.terminal_client, 6000)
    spend(world.program, world.terminal_client, 2500)
    spend(world.program, banksia_client, 4000)
    return banksia, banksia_client


def next_morning(world, clock_at):
    clock_at(sydney(2026, 3, 3, 9, 0))
    world.sign_in_again()


def settlement_entries_by_account() -> dict[int, int]:
    totals: dict[int, int] = {}
    for account_id, amount in Entry.objects.filter(transaction__kind="voucher_settlement").values_list("account_id", "amount"):
        totals[account_id] = totals.get(account_id, 0) + amount
    return totals


# --- Preview, run, read -------------------------------------------------------------------------


def test_the_preview_shows_each_merchants_payout_and_writes_nothing(world, two_merchants, clock_at, fake_gateway):
    banksia, _ = two_merchants
    next_morning(world, clock_at)
    transactions_before = LedgerTransaction.objects.count()

    response = world.admin_client.get(f"{base(world.program)}/settlement-preview")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["business_date"], body["cutoff_at"], body["time_zone"]) == ("2026-03-02", "2026-03-02T13:00:00Z", "Australia/Sydney")
    assert (body["total_amount"], body["existing_run_id"], body["currency"]) == (12500, None, "AUD")
    assert body["lines"] == [
        {"merchant_id": world.merchant.pk, "merchant_name": "Harbourside Swim Club", "redemption_count": 2, "redeemed_amount": 8500,
         "voided_amount": 0, "amount": 8500, "payable_balance": 8500, "will_be_paid": True, "held_back_reason": ""},
        {"merchant_id": banksia.pk, "merchant_name": "Banksia Dance", "redemption_count": 1, "redeemed_amount": 4000,
         "voided_amount": 0, "amount": 4000, "payable_balance": 4000, "will_be_paid": True, "held_back_reason": ""},
    ]
    assert (SettlementRun.objects.count(), Settlement.objects.count(), LedgerTransaction.objects.count()) == (0, 0, transactions_before)
    assert not Redemption.objects.filter(settlement__isnull=False).exists()


def test_a_run_pays_each_merchant_once_and_reconciles_to_the_ledger(world, two_merchants, clock_at, fake_gateway):
    banksia, _ = two_merchants
    next_morning(world, clock_at)
    preview = world.admin_client.get(f"{base(world.program)}/settlement-preview").json()
    key = uuid.uuid4().hex

    made = run_post(world.admin_client, world.program, key=key)
    replayed = run_post(world.admin_client, world.program, key=key)
    again = run_post(world.admin_client, world.program, {"business_date": "2026-03-02"})

    assert made.status_code == 201, made.content
    assert replayed.status_code == 201 and replayed.json() == made.json()
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    run = SettlementRun.objects.get()
    body = made.json()
    assert (body["business_date"], body["started_by"], body["settlement_count"], body["pending_payout_count"]) == ("2026-03-02", "api", 2, 2)
    assert body["totals"] == {"redeemed_amount": 12500, "voided_amount": 0, "amount": preview["total_amount"], "paid_amount": 0}
    assert [(line["merchant_id"], line["amount"], line["status"]) for line in body["lines"]] == [
        (world.merchant.pk, 8500, "pending_payout"),
        (banksia.pk, 4000, "pending_payout"),
    ]
    # The transfers are queued after commit; the task pays them.
    assert list(OutboxJob.objects.filter(task="vouchers.tasks.settlement_run_pay").values_list("args", flat=True)) == [[run.pk]]
    assert settlement_run_pay(run.pk) == ["paid", "paid"]

    # Reconciliation: the run's totals are the ledger's movements, nothing else moved, and the nightly check passes.
    settlements = list(run.settlements.order_by("merchant_id"))
    assert body["transaction_ids"] == [s.transaction_id for s in settlements]
    assert set(LedgerTransaction.objects.filter(kind="voucher_settlement").values_list("pk", flat=True)) == set(body["transaction_ids"])
    payable_a, payable_b = accounts.merchant_payable(world.merchant), accounts.merchant_payable(banksia)
    assert settlement_entries_by_account() == {payable_a.pk: -8500, payable_b.pk: -4000, voucher_payouts_account().pk: 12500}
    assert (merchant_payable_balance(world.merchant), merchant_payable_balance(banksia)) == (0, 0)
    assert sum(s.amount for s in settlements) == voucher_payouts_account().balance == 12500
    assert set(Redemption.objects.values_list("settlement__run", flat=True)) == {run.pk}
    assert reconciliation_run().ok
    assert_ledger_consistent()

    detail = world.admin_client.get(f"{base(world.program)}/settlement-runs/{run.pk}").json()
    assert detail["totals"] == {"redeemed_amount": 12500, "voided_amount": 0, "amount": 12500, "paid_amount": 12500}
    assert [line["status"] for line in detail["lines"]] == ["paid", "paid"]
    assert all(line["transfer_id"].startswith("tr_fake_") for line in detail["lines"])
    [listed] = world.admin_client.get(f"{base(world.program)}/settlement-runs").json()["results"]
    assert {k: v for k, v in listed.items()} == {k: v for k, v in detail.items() if k not in ("lines", "transaction_ids")}
    after = world.admin_client.get(f"{base(world.program)}/settlement-preview").json()
    assert (after["existing_run_id"], after["lines"], after["total_amount"]) == (run.pk, [], 0)


def test_the_run_csv_lists_every_merchants_lines_summing_to_its_payout(world, two_merchants, clock_at, fake_gateway):
    next_morning(world, clock_at)
    run_id = run_post(world.admin_client, world.program).json()["id"]

    response = world.admin_client.get(f"{base(world.program)}/settlement-runs/{run_id}/settlements.csv")

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="tuckbox-settlement-run-{run_id}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == RUN_CSV_COLUMNS
    assert [(row["merchant"], row["line"], row["amount_cents"]) for row in rows] == [
        ("Harbourside Swim Club", "redemption", "6000"),
        ("Harbourside Swim Club", "redemption", "2500"),
        ("Banksia Dance", "redemption", "4000"),
    ]
    for settlement in Settlement.objects.filter(run_id=run_id):
        assert sum(int(r["amount_cents"]) for r in rows if r["settlement_id"] == str(settlement.pk)) == settlement.amount
    assert rows[0]["redeemed_at"] == "2026-03-02T10:00:00+11:00"  # the program's zone


def test_a_merchants_remittance_pdf_is_the_same_for_its_administrator_and_its_terminal(world, two_merchants, clock_at, fake_gateway):
    next_morning(world, clock_at)
    run = run_post(world.admin_client, world.program).json()
    settlement_run_pay(run["id"])
    [mine] = [line for line in run["lines"] if line["merchant_id"] == world.merchant.pk]
    url = f"{base(world.program)}/settlement-runs/{run['id']}/remittances/{mine['settlement_id']}.pdf"

    first, second = world.admin_client.get(url), world.admin_client.get(url)
    terminal = world.terminal_client.get(f"/api/v1/terminal/voucher-settlements/{mine['settlement_id']}/remittance.pdf")

    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-") and first.content == second.content == terminal.content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(first.content)).pages)
    for expected in ("Voucher remittance advice", "Harbourside Swim Club", "Active Kids", "2026-03-02", "60.00 AUD", "25.00 AUD", "85.00 AUD"):
        assert expected in text
    assert "Banksia" not in text and "40.00" not in text


def test_the_command_and_the_api_share_one_run_per_day(world, two_merchants, clock_at, fake_gateway):
    next_morning(world, clock_at)
    out = io.StringIO()

    call_command("vouchers_settle", stdout=out)
    response = run_post(world.admin_client, world.program)

    run = SettlementRun.objects.get()
    assert run.started_by.startswith("command:") and run.settlements.count() == 2
    assert response.status_code == 200 and response.json()["id"] == run.pk
    assert response.json()["totals"]["paid_amount"] == 12500  # the command pays at once
    assert "Harbourside Swim Club: $85.00 for 2026-03-02 (paid" in out.getvalue()
    assert LedgerTransaction.objects.filter(kind="voucher_settlement").count() == 2


def test_a_run_settles_its_own_program_only(world, clock_at, fake_gateway):
    other = make_program(admin=world.admin, name="Creative Kids")
    approve(other, world.merchant)
    spend(world.program, world.terminal_client, 3000)
    spend(other, world.terminal_client, 1200)
    next_morning(world, clock_at)

    run = run_post(world.admin_client, world.program).json()

    assert run["totals"]["amount"] == 3000
    assert merchant_payable_balance(world.merchant) == 1200  # Creative Kids' redemption waits for its own run
    assert Redemption.objects.get(program=other).settlement is None
    preview = world.admin_client.get(f"{base(other)}/settlement-preview").json()
    assert [(line["amount"], line["payable_balance"]) for line in preview["lines"]] == [(1200, 1200)]
    assert_ledger_consistent()


def test_a_void_after_a_run_is_taken_back_by_the_next_run(world, clock_at, fake_gateway):
    paid = spend(world.program, world.terminal_client, 3000)
    next_morning(world, clock_at)
    first = run_post(world.admin_client, world.program).json()
    assert world.terminal_client.post(f"/api/v1/terminal/voucher-redemptions/{paid}/void", HTTP_IDEMPOTENCY_KEY="v1").status_code == 200
    spend(world.program, world.terminal_client, 5000)

    clock_at(sydney(2026, 3, 4, 9, 0))
    world.sign_in_again()
    preview = world.admin_client.get(f"{base(world.program)}/settlement-preview").json()
    second = run_post(world.admin_client, world.program).json()

    assert first["totals"]["amount"] == 3000
    assert [(line["redeemed_amount"], line["voided_amount"], line["amount"]) for line in preview["lines"]] == [(5000, 3000, 2000)]
    assert second["totals"] == {"redeemed_amount": 5000, "voided_amount": 3000, "amount": 2000, "paid_amount": 0}
    assert merchant_payable_balance(world.merchant) == 0
    assert reconciliation_run().ok


def test_a_merchant_without_a_payout_account_is_held_back(world, clock_at, fake_stripe):
    spend(world.program, world.terminal_client, 4200)  # the Stripe gateway: no stand-in destination
    next_morning(world, clock_at)

    preview = world.admin_client.get(f"{base(world.program)}/settlement-preview").json()
    run = run_post(world.admin_client, world.program)

    assert [(line["amount"], line["will_be_paid"], line["held_back_reason"]) for line in preview["lines"]] == [
        (4200, False, "no_payout_destination")
    ]
    assert preview["total_amount"] == 0
    assert run.status_code == 201 and run.json()["lines"] == [] and run.json()["settlement_count"] == 0
    assert merchant_payable_balance(world.merchant) == 4200


# --- Periods in the program's time zone ---------------------------------------------------------


def test_a_day_that_has_not_ended_in_the_programs_zone_is_refused(world, clock_at, fake_gateway):
    perth = make_program(admin=world.admin, name="Active Kids WA", time_zone="Australia/Perth")
    approve(perth, world.merchant)
    spend(perth, world.terminal_client, 1500)
    spend(world.program, world.terminal_client, 1000)
    # 01:00 on 3 March in Sydney is 22:00 on 2 March in Perth.
    clock_at(sydney(2026, 3, 3, 1, 0))
    world.sign_in_again()

    open_in_perth = run_post(world.admin_client, perth, {"business_date": "2026-03-02"})
    ended_in_sydney = run_post(world.admin_client, world.program, {"business_date": "2026-03-02"})
    perth_default = world.admin_client.get(f"{base(perth)}/settlement-preview").json()
    future = world.admin_client.get(f"{base(world.program)}/settlement-preview", {"business_date": "2026-03-05"})

    assert_problem(open_in_perth, 422, "settlement_period_open")
    assert open_in_perth.json()["details"] == {"business_date": "2026-03-02", "time_zone": "Australia/Perth"}
    assert ended_in_sydney.status_code == 201 and ended_in_sydney.json()["totals"]["amount"] == 1000
    assert (perth_default["business_date"], perth_default["cutoff_at"], perth_default["lines"]) == ("2026-03-01", "2026-03-01T16:00:00Z", [])
    assert_problem(future, 422, "settlement_period_open")
    assert not SettlementRun.objects.filter(program=perth).exists()


def test_a_bad_date_and_a_missing_idempotency_key_are_refused(world, clock_at):
    next_morning(world, clock_at)
    assert_problem(run_post(world.admin_client, world.program, {"business_date": "yesterday"}), 400, "validation_error")
    assert_problem(world.admin_client.post(f"{base(world.program)}/settlement-runs", {}, format="json"), 400, "idempotency_key_required")
    assert not SettlementRun.objects.exists()


# --- Who sees what ------------------------------------------------------------------------------


@pytest.fixture
def settled(world, two_merchants, clock_at, fake_gateway):
    next_morning(world, clock_at)
    run = run_post(world.admin_client, world.program).json()
    return run, {line["merchant_id"]: line["settlement_id"] for line in run["lines"]}


def admin_urls(program_id, run_id, settlement_id):
    program = f"/api/v1/voucher-programs/{program_id}"
    return [
        f"{program}/settlement-preview",
        f"{program}/settlement-runs",
        f"{program}/settlement-runs/{run_id}",
        f"{program}/settlement-runs/{run_id}/settlements.csv",
        f"{program}/settlement-runs/{run_id}/remittances/{settlement_id}.pdf",
    ]


def test_another_programs_administrator_reaches_none_of_it(world, settled, client_for, fake_gateway):
    run, by_merchant = settled
    stranger = ProgramAdministratorFactory()
    own = make_program(admin=stranger, name="Their program")
    stranger_client = client_for(stranger.user)
    settlement_id = by_merchant[world.merchant.pk]

    for url in admin_urls(world.program.pk, run["id"], settlement_id):
        assert_problem(stranger_client.get(url), 404, "not_found")
    for url in admin_urls(own.pk, run["id"], settlement_id)[2:]:  # their own program, our run: still not theirs
        assert_problem(stranger_client.get(url), 404, "not_found")
    assert_problem(run_post(stranger_client, world.program), 404, "not_found")
    assert SettlementRun.objects.count() == 1


def test_a_remittance_of_another_run_is_not_found_under_this_one(world, settled, clock_at, fake_gateway):
    run, by_merchant = settled
    other = make_program(admin=world.admin, name="Creative Kids")
    approve(other, world.merchant)
    spend(other, world.terminal_client, 700)
    clock_at(sydney(2026, 3, 4, 9, 0))
    world.sign_in_again()
    other_run = run_post(world.admin_client, other).json()

    url = f"{base(world.program)}/settlement-runs/{run['id']}/remittances/{other_run['lines'][0]['settlement_id']}.pdf"
    assert_problem(world.admin_client.get(url), 404, "not_found")
    assert_problem(world.admin_client.get(f"{base(world.program)}/settlement-runs/{other_run['id']}"), 404, "not_found")


def test_terminals_and_guardians_cannot_settle(world, settled, client_for):
    run, by_merchant = settled
    guardian = client_for(GuardianLinkFactory().guardian.user)
    for client in (world.terminal_client, guardian):
        for url in admin_urls(world.program.pk, run["id"], by_merchant[world.merchant.pk]):
            assert_problem(client.get(url), 403, "permission_denied")
        assert_problem(run_post(client, world.program), 403, "permission_denied")


def test_a_merchant_downloads_its_own_remittances_and_no_one_elses(world, two_merchants, settled):
    banksia, banksia_client = two_merchants
    _, by_merchant = settled
    own, others = by_merchant[world.merchant.pk], by_merchant[banksia.pk]

    listed = world.terminal_client.get("/api/v1/terminal/voucher-settlements").json()["results"]
    assert [row["id"] for row in listed] == [own]
    assert world.terminal_client.get(f"/api/v1/terminal/voucher-settlements/{own}/remittance.pdf").status_code == 200
    assert_problem(world.terminal_client.get(f"/api/v1/terminal/voucher-settlements/{others}/remittance.pdf"), 404, "not_found")
    assert banksia_client.get(f"/api/v1/terminal/voucher-settlements/{others}/remittance.pdf").status_code == 200
    assert_problem(world.admin_client.get(f"/api/v1/terminal/voucher-settlements/{own}/remittance.pdf"), 403, "permission_denied")


def test_a_refused_transfer_shows_in_the_run_with_its_reversal(world, clock_at, fake_stripe):
    PayoutDestination.objects.create(merchant=world.merchant, stripe_account_id="acct_1SwimClub000001")
    spend(world.program, world.terminal_client, 4200)
    next_morning(world, clock_at)
    fake_stripe.fail_next("/v1/transfers", status=400, error={"type": "invalid_request_error", "message": "No such destination"})

    run_id = run_post(world.admin_client, world.program).json()["id"]
    settlement_run_pay(run_id)
    detail = world.admin_client.get(f"{base(world.program)}/settlement-runs/{run_id}").json()

    settlement = Settlement.objects.get()
    assert (detail["failed_count"], detail["pending_payout_count"], detail["settlement_count"]) == (1, 0, 1)
    assert detail["totals"] == {"redeemed_amount": 0, "voided_amount": 0, "amount": 0, "paid_amount": 0}
    [line] = detail["lines"]
    assert (line["status"], line["amount"], line["reversal_transaction_id"]) == ("failed", 4200, settlement.reversal_transaction_id)
    assert detail["transaction_ids"] == [settlement.transaction_id, settlement.reversal_transaction_id]
    assert merchant_payable_balance(world.merchant) == 4200 and voucher_payouts_account().balance == 0
    assert Redemption.objects.get().settlement is None  # left for the next run
    assert reconciliation_run().ok
