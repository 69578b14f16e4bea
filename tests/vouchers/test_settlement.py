"""Daily settlement: once per merchant and day, a balanced ledger, a CSV statement, a Stripe Connect transfer."""

import pytest

from tests.factories import MerchantFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import post, redeem, sydney
from tests.vouchers.factories import app_qr, approve, issue
from tests.wallet.conftest import assert_ledger_consistent
from vouchers.models import PayoutDestination, Redemption, Settlement
from vouchers.settlement import voucher_payouts_account
from vouchers.tasks import settle_vouchers_daily
from wallet import accounts
from wallet.models import Entry

pytestmark = pytest.mark.django_db


def settle() -> list[Settlement]:
    """Run the daily job as Celery would (the task, called directly) and load what it settled."""
    return [Settlement.objects.get(pk=pk) for pk in settle_vouchers_daily()]


def spend(world, client, amount, link=None):
    [voucher] = issue(world.program, link=link)
    response = redeem(client, [{"qr": app_qr(voucher)}], amount)
    assert response.status_code == 201, response.content
    return response.json()["redemption_id"]


@pytest.fixture
def second_merchant(world, terminal_client):
    merchant = MerchantFactory(name="Banksia Dance", categories=["sport"])
    approve(world.program, merchant)
    return merchant, terminal_client(merchant)


def test_the_daily_job_settles_each_merchant_once_and_the_ledger_balances(world, second_merchant, clock_at, fake_gateway):
    merchant_b, client_b = second_merchant
    first = spend(world, world.terminal_client, 6000, link=world.link)
    second = spend(world, world.terminal_client, 2500)
    spend(world, client_b, 4000)

    clock_at(sydney(2026, 3, 3, 2, 0))  # the next night
    created = settle()
    again = settle()

    assert len(created) == 2 and again == []
    assert Settlement.objects.count() == 2
    settlement = Settlement.objects.get(merchant=world.merchant)
    assert (settlement.amount, settlement.redeemed_amount, settlement.voided_amount) == (8500, 8500, 0)
    assert settlement.business_date.isoformat() == "2026-03-02"
    assert settlement.status == Settlement.Status.PAID and settlement.transfer_id.startswith("tr_fake_")
    assert set(Redemption.objects.filter(merchant=world.merchant).values_list("settlement", flat=True)) == {settlement.pk}
    assert sorted(Entry.objects.filter(transaction=settlement.transaction).values_list("account_id", "amount")) == sorted(
        [(accounts.merchant_payable(world.merchant).pk, -8500), (voucher_payouts_account().pk, 8500)]
    )
    assert accounts.merchant_payable(world.merchant).balance == 0
    assert accounts.merchant_payable(merchant_b).balance == 0
    assert voucher_payouts_account().balance == 12500
    assert_ledger_consistent()

    lines = settlement.statement_csv.splitlines()
    assert lines[0] == "settlement_id,business_date,line,redemption_id,redeemed_at,voided_at,program,category,vouchers,amount_cents,amount,currency"
    assert lines[1].startswith(f"{settlement.pk},2026-03-02,redemption,{first},2026-03-02T10:00:00+11:00,,Active Kids,sport,*****-*****-")
    assert lines[1].endswith(",6000,60.00,AUD")
    assert lines[2].split(",")[3] == str(second) and lines[2].endswith(",2500,25.00,AUD")
    assert len(lines) == 3


def test_todays_redemptions_wait_for_tomorrows_settlement(world, clock_at, fake_gateway):
    spend(world, world.terminal_client, 1000)
    clock_at(sydney(2026, 3, 2, 23, 30))
    assert settle() == []  # the job of 2 March settles 1 March, which had nothing

    clock_at(sydney(2026, 3, 3, 0, 30))
    [settlement] = settle()
    assert settlement.amount == 1000


def test_a_void_after_settlement_is_taken_back_from_the_next_one(world, clock_at, fake_gateway):
    paid = spend(world, world.terminal_client, 3000)
    clock_at(sydney(2026, 3, 3, 1, 0))
    [first] = settle()

    clock_at(sydney(2026, 3, 3, 9, 0))  # inside the 24-hour void window
    assert post(world.terminal_client, f"/api/v1/terminal/voucher-redemptions/{paid}/void").status_code == 200
    assert accounts.merchant_payable(world.merchant).balance == -3000  # the merchant owes it back
    spend(world, world.terminal_client, 5000)
    voided_before_paid = spend(world, world.terminal_client, 700)
    assert post(world.terminal_client, f"/api/v1/terminal/voucher-redemptions/{voided_before_paid}/void").status_code == 200

    clock_at(sydney(2026, 3, 4, 1, 0))
    [second] = settle()

    assert (first.amount, second.redeemed_amount, second.voided_amount, second.amount) == (3000, 5000, 3000, 2000)
    assert [line.split(",")[2] for line in second.statement_csv.splitlines()[1:]] == ["redemption", "redemption_voided", "void"]
    assert accounts.merchant_payable(world.merchant).balance == 0
    assert_ledger_consistent()


def test_nothing_is_paid_when_voids_exceed_new_redemptions(world, clock_at, fake_gateway):
    paid = spend(world, world.terminal_client, 3000)
    clock_at(sydney(2026, 3, 3, 1, 0))
    settle()
    clock_at(sydney(2026, 3, 3, 9, 0))
    post(world.terminal_client, f"/api/v1/terminal/voucher-redemptions/{paid}/void")

    clock_at(sydney(2026, 3, 4, 1, 0))
    assert settle() == []
    assert Settlement.objects.count() == 1
    assert accounts.merchant_payable(world.merchant).balance == -3000  # netted by a later settlement


# --- Stripe Connect at the HTTP boundary ------------------------------------------------------


def with_destination(world):
    PayoutDestination.objects.create(merchant=world.merchant, stripe_account_id="acct_1SwimClub000001")


def test_the_payout_is_a_stripe_connect_transfer_made_once(world, clock_at, fake_stripe):
    with_destination(world)
    spend(world, world.terminal_client, 4200)
    clock_at(sydney(2026, 3, 3, 2, 0))

    [settlement] = settle()
    settle()

    [call] = fake_stripe.calls("/v1/transfers")
    assert (call.params["amount"], call.params["currency"], call.params["destination"]) == ("4200", "aud", "acct_1SwimClub000001")
    assert call.idempotency_key == f"tuckbox-voucher-settlement-{settlement.pk}"
    assert call.metadata == {"voucher_settlement_id": str(settlement.pk), "merchant_id": str(world.merchant.pk)}
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PAID and settlement.transfer_id.startswith("tr_")


def test_stripe_down_leaves_the_payout_pending_and_the_next_run_pays_it(world, clock_at, fake_stripe):
    with_destination(world)
    spend(world, world.terminal_client, 4200)
    clock_at(sydney(2026, 3, 3, 2, 0))
    fake_stripe.fail_next("/v1/transfers", status=500)

    [settlement] = settle()
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PENDING_PAYOUT and settlement.last_error

    settle()
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PAID
    keys = {call.idempotency_key for call in fake_stripe.calls("/v1/transfers")}
    assert keys == {f"tuckbox-voucher-settlement-{settlement.pk}"}


def test_a_refused_transfer_reverses_the_booking_and_frees_the_redemptions(world, clock_at, fake_stripe):
    with_destination(world)
    spend(world, world.terminal_client, 4200)
    clock_at(sydney(2026, 3, 3, 2, 0))
    fake_stripe.fail_next("/v1/transfers", status=400, error={"type": "invalid_request_error", "message": "No such destination"})

    [settlement] = settle()

    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.FAILED
    assert settlement.reversal_transaction.reverses == settlement.transaction
    assert accounts.merchant_payable(world.merchant).balance == 4200
    assert Redemption.objects.get().settlement is None
    assert_ledger_consistent()

    clock_at(sydney(2026, 3, 4, 2, 0))
    [retried] = settle()
    assert (retried.amount, retried.status) == (4200, Settlement.Status.PAID)


def test_without_a_payout_account_nothing_is_settled(world, clock_at, fake_stripe):
    spend(world, world.terminal_client, 4200)
    clock_at(sydney(2026, 3, 3, 2, 0))

    assert settle() == []
    assert not fake_stripe.calls("/v1/transfers")
    assert accounts.merchant_payable(world.merchant).balance == 4200


# --- What the merchant sees ------------------------------------------------------------------


def test_the_merchant_sees_pending_and_settled_amounts_and_its_statement(world, second_merchant, clock_at, fake_gateway):
    _, client_b = second_merchant
    spend(world, world.terminal_client, 3000)
    spend(world, client_b, 900)
    assert world.terminal_client.get("/api/v1/terminal/voucher-balance").json() == {
        "pending_amount": 3000,
        "in_payout_amount": 0,
        "paid_amount": 0,
        "currency": "AUD",
    }

    clock_at(sydney(2026, 3, 3, 2, 0))
    settle()
    spend(world, world.terminal_client, 1100)

    assert world.terminal_client.get("/api/v1/terminal/voucher-balance").json()["pending_amount"] == 1100
    assert world.terminal_client.get("/api/v1/terminal/voucher-balance").json()["paid_amount"] == 3000
    [row] = world.terminal_client.get("/api/v1/terminal/voucher-settlements").json()["results"]
    assert (row["amount"], row["status"], row["business_date"]) == (3000, "paid", "2026-03-02")
    statement = world.terminal_client.get(f"/api/v1/terminal/voucher-settlements/{row['id']}/statement.csv")
    assert statement.status_code == 200 and statement["Content-Type"] == "text/csv; charset=utf-8"
    assert statement.content.decode() == Settlement.objects.get(pk=row["id"]).statement_csv
    assert_problem(client_b.get(f"/api/v1/terminal/voucher-settlements/{row['id']}"), 404, "not_found")
    assert_problem(client_b.get(f"/api/v1/terminal/voucher-settlements/{row['id']}/statement.csv"), 404, "not_found")
