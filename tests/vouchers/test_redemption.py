"""Redeeming at a merchant: preview, partial and single use, stacking, every rule, void, throttle."""

import time
from datetime import date, timedelta

import pytest

from core import counters
from tests.factories import GuardianLinkFactory, MerchantFactory
from tests.faults.services import RedisServer
from tests.helpers import assert_problem
from tests.vouchers.conftest import START, post, preview, redeem, sydney
from tests.vouchers.factories import app_qr, approve, issue, make_program, printed_qr, program_money
from tests.wallet.conftest import assert_ledger_consistent
from vouchers import numbers
from vouchers.models import Redemption, RedemptionLine, Voucher, VoucherState
from wallet import accounts
from wallet.models import Entry, LedgerTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(world):
    [voucher] = issue(world.program, link=world.link)
    return voucher


def qr(voucher):
    return {"qr": app_qr(voucher)}


def funding_balance(program):
    # Issuing reserves each voucher's value out of the funding account: the program's money is both.
    return program_money(program)


def payable_balance(merchant):
    return accounts.merchant_payable(merchant).balance


def nothing_written(world, voucher):
    voucher.refresh_from_db()
    assert voucher.remaining_value == voucher.face_value
    assert not Redemption.objects.exists()
    assert not LedgerTransaction.objects.exclude(kind="voucher_reserve").exists()


# --- Preview ------------------------------------------------------------------------------


def test_preview_shows_what_the_cashier_needs_and_writes_nothing(world, voucher):
    response = preview(world.terminal_client, qr(voucher))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "voucher_id": voucher.pk,
        "number": numbers.formatted(voucher.number),
        "program": {"id": world.program.pk, "name": "Active Kids", "code": world.program.code},
        "state": "issued",
        "face_value": 10000,
        "remaining_value": 10000,
        "expires_on": "2026-12-31",
        "beneficiary_first_name": "Mia",
        "use_rule": "partial",
        "stackable": False,
        "can_redeem": True,
        "refusal_code": None,
        "refusal_detail": None,
        "categories": ["sport"],
    }
    nothing_written(world, voucher)


def test_preview_says_why_not_at_an_unapproved_merchant(world, voucher, terminal_client):
    client = terminal_client(MerchantFactory(categories=["sport"]))

    body = preview(client, qr(voucher)).json()

    assert (body["can_redeem"], body["refusal_code"], body["categories"]) == (False, "merchant_not_approved", [])
    assert body["beneficiary_first_name"] == "Mia"


# --- Redeem ---------------------------------------------------------------------------------


def test_partial_use_keeps_the_rest_and_moves_money_in_one_balanced_transaction(world, voucher):
    response = redeem(world.terminal_client, [qr(voucher)], 6000, description="Term 1 swimming")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body | {"redemption_id": None, "created_at": None} == {
        "redemption_id": None,
        "program": {"id": world.program.pk, "name": "Active Kids", "code": world.program.code},
        "terminal_id": world.terminal_client.terminal.pk,
        "category": "sport",
        "amount": 6000,
        "description": "Term 1 swimming",
        "created_at": None,
        "void_until": "2026-03-02T23:00:00Z",
        "voided_at": None,
        "settlement_id": None,
        "lines": [{"voucher_id": voucher.pk, "number": numbers.formatted(voucher.number), "amount": 6000, "forfeited_amount": 0, "remaining_value": 4000}],
    }
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.state) == (4000, VoucherState.PARTLY_REDEEMED)
    posted = Redemption.objects.get().transaction
    assert sorted(Entry.objects.filter(transaction=posted).values_list("account_id", "amount")) == sorted(
        [(voucher.reserve_account_id, -6000), (accounts.merchant_payable(world.merchant).pk, 6000)]
    )
    assert (funding_balance(world.program), payable_balance(world.merchant)) == (-6000, 6000)

    again = redeem(world.terminal_client, [qr(voucher)], 4000)
    assert again.status_code == 201
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.state) == (0, VoucherState.REDEEMED)
    assert_problem(redeem(world.terminal_client, [qr(voucher)], 1), 409, "voucher_already_redeemed")
    assert_ledger_consistent()


def test_single_use_forfeits_the_rest(world):
    program = make_program(admin=world.admin, use_rule="single_use")
    approve(program, world.merchant)
    [voucher] = issue(program, link=world.link)

    response = redeem(world.terminal_client, [qr(voucher)], 8500)

    assert response.status_code == 201
    assert response.json()["lines"][0] | {"number": None} == {"voucher_id": voucher.pk, "number": None, "amount": 8500, "forfeited_amount": 1500, "remaining_value": 0}
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.forfeited_value, voucher.state) == (0, 1500, VoucherState.REDEEMED)
    # The merchant is reimbursed what was used, not the face value.
    assert (funding_balance(program), payable_balance(world.merchant)) == (-8500, 8500)
    assert_problem(redeem(world.terminal_client, [qr(voucher)], 100), 409, "voucher_already_redeemed")
    assert_ledger_consistent()


def test_an_amount_above_what_is_left_is_refused_and_writes_nothing(world, voucher):
    body = assert_problem(redeem(world.terminal_client, [qr(voucher)], 10001), 422, "amount_exceeds_remaining")
    assert body["details"] == {"remaining": 10000, "amount": 10001}
    nothing_written(world, voucher)


@pytest.mark.parametrize("amount", [0, -5, 12.5, "100", True, None])
def test_amounts_must_be_integer_cents(world, voucher, amount):
    assert_problem(redeem(world.terminal_client, [qr(voucher)], amount), 400, "validation_error")
    nothing_written(world, voucher)


def test_the_same_idempotency_key_replays_the_first_redemption(world, voucher):
    first = redeem(world.terminal_client, [qr(voucher)], 3000, key="till-7-sale-1")
    replay = redeem(world.terminal_client, [qr(voucher)], 3000, key="till-7-sale-1")

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content and replay["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.remaining_value == 7000


def test_an_idempotency_key_is_required(world, voucher):
    response = world.terminal_client.post("/api/v1/terminal/voucher-redemptions", {"vouchers": [qr(voucher)], "amount": 100}, format="json")
    assert_problem(response, 400, "idempotency_key_required")


def test_typed_number_and_date_of_birth(world, voucher):
    response = redeem(world.terminal_client, [{"number": numbers.formatted(voucher.number), "date_of_birth": "2016-04-02"}], 2500)
    assert response.status_code == 201

    assert_problem(
        redeem(world.terminal_client, [{"number": voucher.number, "date_of_birth": "2016-04-01"}], 2500), 422, "date_of_birth_mismatch"
    )


def test_printed_code_needs_the_date_of_birth_to_redeem(world, voucher):
    assert_problem(redeem(world.terminal_client, [{"qr": printed_qr(voucher)}], 2500), 422, "date_of_birth_required")
    assert redeem(world.terminal_client, [{"qr": printed_qr(voucher), "date_of_birth": "2016-04-02"}], 2500).status_code == 201


# --- Stacking -------------------------------------------------------------------------------


def test_stacked_vouchers_pay_one_bill_soonest_expiry_first(world, clock_at):
    program = make_program(admin=world.admin, face_value=5000, stackable=True, use_rule="single_use", vouchers_per_period=2)
    approve(program, world.merchant)
    first, second = issue(program, link=world.link)

    response = redeem(world.terminal_client, [qr(second), qr(first)], 7000)

    assert response.status_code == 201, response.content
    lines = {line["voucher_id"]: line for line in response.json()["lines"]}
    assert sum(line["amount"] for line in lines.values()) == 7000
    assert sorted((line["amount"], line["forfeited_amount"]) for line in lines.values()) == [(2000, 3000), (5000, 0)]
    # One transaction for the bill: each voucher's reserve and the merchant's payable.
    assert Redemption.objects.get().transaction.entries.count() == 3
    assert (funding_balance(program), payable_balance(world.merchant)) == (-7000, 7000)
    assert_ledger_consistent()


def test_stacking_only_where_the_program_allows(world):
    program = make_program(admin=world.admin, vouchers_per_period=2)
    approve(program, world.merchant)
    first, second = issue(program, link=world.link)

    assert_problem(redeem(world.terminal_client, [qr(first), qr(second)], 100), 422, "stacking_not_allowed")
    assert_problem(redeem(world.terminal_client, [qr(first), qr(first)], 100), 422, "stack_mismatch")


def test_stacked_vouchers_must_share_program_and_beneficiary(world):
    program = make_program(admin=world.admin, stackable=True)
    approve(program, world.merchant)
    [mine] = issue(program, link=world.link)
    [sibling] = issue(program, link=GuardianLinkFactory(guardian=world.link.guardian))

    assert_problem(redeem(world.terminal_client, [qr(mine), qr(sibling)], 100), 422, "stack_mismatch")


# --- Rules ------------------------------------------------------------------------------------


def test_weekday_rule_in_the_vouchers_time_zone(world, clock_at):
    program = make_program(admin=world.admin, allowed_weekdays=[0, 1, 2, 3], categories=["sport"])  # Monday to Thursday
    approve(program, world.merchant)
    [voucher] = issue(program, link=world.link)

    clock_at(sydney(2026, 3, 5, 23, 59))  # Thursday night in Sydney (Thursday noon UTC)
    assert redeem(world.terminal_client, [qr(voucher)], 100).status_code == 201
    clock_at(sydney(2026, 3, 6, 0, 0))  # Friday
    body = assert_problem(redeem(world.terminal_client, [qr(voucher)], 100), 422, "weekday_not_allowed")
    assert body["details"] == {"allowed_weekdays": [0, 1, 2, 3]}


def test_category_must_be_the_vouchers_and_approved(world, terminal_client):
    program = make_program(admin=world.admin, categories=["sport", "creative", "music"])
    merchant = MerchantFactory(categories=["sport", "creative", "music"])
    approve(program, merchant, categories=["sport", "creative"])
    client = terminal_client(merchant)
    [voucher] = issue(program, link=world.link)

    assert_problem(redeem(client, [qr(voucher)], 100), 422, "category_required")
    assert_problem(redeem(client, [qr(voucher)], 100, category="music"), 422, "category_not_allowed")
    response = redeem(client, [qr(voucher)], 100, category="creative")
    assert (response.status_code, response.json()["category"]) == (201, "creative")


def test_a_merchant_approved_for_other_categories_cannot_redeem(world, terminal_client):
    program = make_program(admin=world.admin, categories=["sport", "creative"])
    merchant = MerchantFactory(categories=["creative"])
    approve(program, merchant, categories=["creative"])
    program_sport_only = make_program(admin=world.admin, categories=["sport"])
    approve(program_sport_only, merchant, categories=["sport"])
    [voucher] = issue(program_sport_only, link=world.link)
    merchant_client = terminal_client(merchant)

    assert redeem(merchant_client, [qr(voucher)], 100).status_code == 201  # approved for sport here
    [dining] = issue(make_program(admin=world.admin, categories=["dining"]), link=world.link)
    assert_problem(redeem(merchant_client, [qr(dining)], 100), 403, "merchant_not_approved")


def test_expiry_is_judged_at_the_end_of_the_last_day_in_the_time_zone(world, voucher, clock_at):
    clock_at(sydney(2026, 12, 31, 23, 59, 59))  # 12:59:59 UTC on 31 December
    assert redeem(world.terminal_client, [qr(voucher)], 100).status_code == 201

    clock_at(sydney(2027, 1, 1, 0, 0, 0))  # 13:00 UTC, still 31 December in UTC
    body = assert_problem(redeem(world.terminal_client, [qr(voucher)], 100), 409, "voucher_expired")
    assert body["details"] == {"expired_on": "2026-12-31"}
    assert preview(world.terminal_client, qr(voucher)).json()["refusal_code"] == "voucher_expired"


def test_a_perth_childs_voucher_expires_at_perth_midnight(world, clock_at):
    world.school.time_zone = "Australia/Perth"
    world.school.save()
    [voucher] = issue(world.program, link=world.link)
    assert voucher.time_zone == "Australia/Perth"

    clock_at(sydney(2027, 1, 1, 2, 59))  # 23:59 on 31 December in Perth
    assert redeem(world.terminal_client, [qr(voucher)], 100).status_code == 201
    clock_at(sydney(2027, 1, 1, 3, 0))
    assert_problem(redeem(world.terminal_client, [qr(voucher)], 100), 409, "voucher_expired")


def test_one_provider_rule(world, terminal_client):
    program = make_program(admin=world.admin, one_provider=True)
    approve(program, world.merchant)
    other = MerchantFactory(categories=["sport"])
    approve(program, other)
    [voucher] = issue(program, link=world.link)

    assert redeem(world.terminal_client, [qr(voucher)], 4000).status_code == 201
    assert_problem(redeem(terminal_client(other), [qr(voucher)], 1000), 422, "voucher_tied_to_other_provider")
    assert redeem(world.terminal_client, [qr(voucher)], 1000).status_code == 201  # the same provider: fine


def test_once_per_term_rule(world, clock_at):
    program = make_program(admin=world.admin, once_per_term=True, vouchers_per_period=2)
    approve(program, world.merchant)
    first, second = issue(program, link=world.link)
    from guardians.models import Term

    Term.objects.create(school=world.school, name="Term 1", starts_on=date(2026, 2, 2), ends_on=date(2026, 4, 2))
    Term.objects.create(school=world.school, name="Term 2", starts_on=date(2026, 4, 20), ends_on=date(2026, 6, 26))

    assert redeem(world.terminal_client, [qr(first)], 2000).status_code == 201
    assert redeem(world.terminal_client, [qr(first)], 2000).status_code == 201  # the same voucher again: fine
    body = assert_problem(redeem(world.terminal_client, [qr(second)], 2000), 422, "provider_already_used_this_term")
    # Term 1 and the holidays before it (from 1 January) are one "term" for the rule.
    assert body["details"] == {"counts_from": "2026-01-01", "counts_until": "2026-04-02"}

    clock_at(sydney(2026, 4, 10, 10, 0))  # school holidays: they count towards term 2
    assert redeem(world.terminal_client, [qr(second)], 2000).status_code == 201


def test_revoked_voucher_and_unapproved_suspended_or_lapsed_merchants(world, voucher, terminal_client):
    client = world.terminal_client
    world.approval.status = "suspended"
    world.approval.save()
    assert_problem(redeem(client, [qr(voucher)], 100), 403, "merchant_approval_suspended")

    world.approval.status = "approved"
    world.approval.insurance_expires_on = date(2026, 3, 1)
    world.approval.save()
    body = assert_problem(redeem(client, [qr(voucher)], 100), 403, "merchant_approval_expired")
    assert body["details"] == {"lapsed": ["insurance"]}

    assert_problem(redeem(terminal_client(MerchantFactory(categories=["sport"])), [qr(voucher)], 100), 403, "merchant_not_approved")

    world.approval.insurance_expires_on = date(2027, 3, 1)
    world.approval.save()
    response = post(world.admin_client, f"/api/v1/voucher-programs/{world.program.pk}/vouchers/{voucher.pk}/revoke", {"reason": "Duplicate"})
    assert response.status_code == 200
    assert_problem(redeem(client, [qr(voucher)], 100), 409, "voucher_revoked")
    nothing_written(world, voucher)


# --- Void -----------------------------------------------------------------------------------


def void(client, redemption_id):
    return post(client, f"/api/v1/terminal/voucher-redemptions/{redemption_id}/void")


def test_void_within_the_window_restores_the_voucher_with_a_reversing_transaction(world, clock_at):
    program = make_program(admin=world.admin, use_rule="single_use")
    approve(program, world.merchant)
    [voucher] = issue(program, link=world.link)
    redemption_id = redeem(world.terminal_client, [qr(voucher)], 8500).json()["redemption_id"]

    clock_at(START + timedelta(hours=23, minutes=59))
    response = void(world.terminal_client, redemption_id)

    assert response.status_code == 200, response.content
    assert response.json()["voided_at"] == "2026-03-02T22:59:00Z"
    assert response.json()["lines"][0]["remaining_value"] == 10000
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.forfeited_value, voucher.state) == (10000, 0, VoucherState.ISSUED)
    redemption = Redemption.objects.get()
    assert redemption.void_transaction.reverses == redemption.transaction
    assert sorted(redemption.void_transaction.entries.values_list("amount", flat=True)) == [-8500, 8500]
    assert (funding_balance(program), payable_balance(world.merchant)) == (0, 0)
    assert_problem(void(world.terminal_client, redemption_id), 409, "redemption_already_voided")
    assert_ledger_consistent()


def test_void_after_the_window_is_refused(world, voucher, clock_at):
    redemption_id = redeem(world.terminal_client, [qr(voucher)], 5000).json()["redemption_id"]

    clock_at(START + timedelta(hours=24, seconds=1))
    assert_problem(void(world.terminal_client, redemption_id), 422, "void_window_closed")
    voucher.refresh_from_db()
    assert voucher.remaining_value == 5000


def test_another_merchant_cannot_void(world, voucher, terminal_client):
    redemption_id = redeem(world.terminal_client, [qr(voucher)], 5000).json()["redemption_id"]
    stranger = terminal_client(MerchantFactory(categories=["sport"]))

    assert_problem(void(stranger, redemption_id), 404, "redemption_not_found")
    # Any terminal of the same merchant may.
    assert void(terminal_client(world.merchant, label="Desk 2"), redemption_id).status_code == 200


# --- Failed look-ups ---------------------------------------------------------------------------


def test_eleventh_failed_look_up_in_a_minute_is_429(world, voucher, terminal_client):
    client = world.terminal_client
    unknown = {"number": numbers.generate(), "date_of_birth": "2016-04-02"}
    for _ in range(10):
        assert_problem(preview(client, unknown), 404, "voucher_not_found")

    response = preview(client, unknown)
    assert_problem(response, 429, "voucher_lookup_throttled")
    assert response["Retry-After"]
    # Every look-up from this terminal waits now, even a genuine one; other terminals are unaffected.
    assert_problem(preview(client, qr(voucher)), 429, "voucher_lookup_throttled")
    assert preview(terminal_client(world.merchant, label="Desk 2"), qr(voucher)).status_code == 200


def test_only_failures_count(world, voucher):
    for _ in range(30):
        assert preview(world.terminal_client, qr(voucher)).status_code == 200
    for _ in range(9):
        assert_problem(preview(world.terminal_client, {"qr": "TBV1.AAAA"}), 422, "voucher_token_invalid")
    assert preview(world.terminal_client, qr(voucher)).status_code == 200


def test_the_failure_window_starts_at_the_first_failure_and_is_not_extended(settings):
    first = counters.counter_add_one("window-test", window_seconds=60)
    ttl_after_first = counters._redis().ttl(counters.PREFIX + "window-test")
    second = counters.counter_add_one("window-test", window_seconds=600)

    assert (first, second, counters.counter_value("window-test")) == (1, 2, 2)
    assert 0 < counters._redis().ttl(counters.PREFIX + "window-test") <= ttl_after_first <= 60
    assert counters.counter_value("never-counted") == 0


def test_with_redis_stopped_look_ups_fail_open_and_a_redemption_still_succeeds(world, voucher, settings):
    server = RedisServer().start()
    settings.REDIS_URL = server.url  # the counters' Redis only: the cache and the broker stay up
    server.stop()

    started = time.monotonic()
    assert_problem(preview(world.terminal_client, {"number": numbers.generate(), "date_of_birth": "2016-04-02"}), 404, "voucher_not_found")
    response = redeem(world.terminal_client, [qr(voucher)], 500)

    assert response.status_code == 201, response.content
    assert time.monotonic() - started < 5  # each counter call gives up within the Redis timeouts
    assert Redemption.objects.get().amount == 500


def test_rotating_code_is_per_voucher(world, voucher):
    [other] = issue(world.program)
    forged = app_qr(voucher).rsplit(".", 1)[0] + "." + app_qr(other).rsplit(".", 1)[1]
    if forged != app_qr(voucher):
        assert_problem(preview(world.terminal_client, {"qr": forged}), 422, "voucher_code_expired")


def test_nothing_is_left_half_written_when_a_rule_refuses(world, voucher):
    world.approval.status = "suspended"
    world.approval.save()
    redeem(world.terminal_client, [qr(voucher)], 100)
    assert not RedemptionLine.objects.exists()
    assert Voucher.objects.get(pk=voucher.pk).remaining_value == 10000


def test_a_throttled_redemption_is_not_stored_under_its_idempotency_key(world, voucher, settings):
    from django.core.cache import cache

    for _ in range(10):
        preview(world.terminal_client, {"number": numbers.generate(), "date_of_birth": "2016-04-02"})
    assert_problem(redeem(world.terminal_client, [qr(voucher)], 500, key="sale-42"), 429, "voucher_lookup_throttled")

    cache.clear()  # the minute has passed
    response = redeem(world.terminal_client, [qr(voucher)], 500, key="sale-42")
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
