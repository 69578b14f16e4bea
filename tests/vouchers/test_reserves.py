"""Each voucher's value sits in its own reserve account from issue; what can no longer be spent goes
back to the program's funding, by the release job (deadlines themselves are decided at request time)."""

from datetime import timedelta

import pytest

from tests.helpers import assert_problem
from tests.vouchers.conftest import redeem, sydney
from tests.vouchers.factories import app_qr, approve, issue, make_program, program_money
from vouchers import reserves, services
from wallet.models import Account
from wallet.reconciliation import reconciliation_run

pytestmark = pytest.mark.django_db


def balances(program, voucher):
    program.funding_account.refresh_from_db()
    return program.funding_account.balance, Account.objects.get(pk=voucher.reserve_account_id).balance


def test_issuing_reserves_the_face_value_and_a_forfeit_is_released_by_the_job(world):
    program = make_program(admin=world.admin, use_rule="single_use")
    approve(program, world.merchant)
    [voucher] = issue(program, link=world.link)
    assert balances(program, voucher) == (-10000, 10000)

    assert redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 8500).status_code == 201
    # The redemption paid from the reserve; the forfeit waits there for the job, the funding untouched.
    assert balances(program, voucher) == (-10000, 1500)

    reserves.voucher_reserve_release(voucher_id=voucher.pk)
    reserves.voucher_reserve_release(voucher_id=voucher.pk)  # twice: nothing more moves
    assert balances(program, voucher) == (-8500, 0)
    assert program_money(program) == -8500
    assert reconciliation_run().ok


def test_an_expired_voucher_is_refused_at_once_and_its_reserve_released_by_the_sweep(world, clock_at):
    [voucher] = issue(world.program, link=world.link)
    assert redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 4000).status_code == 201

    clock_at(sydney(2027, 1, 1, 0, 0) + timedelta(minutes=1))
    world.sign_in_again()
    # Refused before any job has run: the deadline is the request's.
    assert_problem(redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 100), 409, "voucher_expired")
    assert balances(world.program, voucher) == (-10000, 6000)

    assert reserves.reserves_release_due() == 1
    assert reserves.reserves_release_due() == 0
    assert balances(world.program, voucher) == (-4000, 0)
    assert reconciliation_run().ok


def test_revoking_releases_what_is_left(world, django_capture_on_commit_callbacks, eager_celery):
    [voucher] = issue(world.program, link=world.link)
    with django_capture_on_commit_callbacks(execute=True):
        services.voucher_end(voucher=voucher, ended_by=world.admin.user, action="revoke", reason="Not eligible")
    assert balances(world.program, voucher) == (0, 0)
    assert reconciliation_run().ok
