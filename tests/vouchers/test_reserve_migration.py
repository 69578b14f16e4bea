"""The data migration that reserves vouchers issued before reserves existed (vouchers/migrations/0003)."""

import importlib

import pytest
from django.apps import apps

from tests.vouchers.conftest import redeem
from tests.vouchers.factories import app_qr, issue
from vouchers import numbers
from vouchers.models import Voucher, VoucherState
from wallet.models import Account
from wallet.reconciliation import reconciliation_run

pytestmark = pytest.mark.django_db

migration = importlib.import_module("vouchers.migrations.0003_reserve_issued_vouchers")


def _legacy_copy(voucher, *, sequence, **fields) -> Voucher:
    """A voucher as issuing wrote them before reserves: no reserve account, the value still in the funding."""
    legacy = Voucher.objects.get(pk=voucher.pk)
    legacy.pk, legacy.number, legacy.sequence, legacy.reserve_account = None, numbers.generate(), sequence, None
    for name, value in fields.items():
        setattr(legacy, name, value)
    legacy.save(force_insert=True)
    return legacy


def test_live_vouchers_get_their_remaining_value_reserved_and_redeem_from_it(world):
    [voucher] = issue(world.program, link=world.link)
    live = _legacy_copy(voucher, sequence=2, remaining_value=7000, state=VoucherState.PARTLY_REDEEMED)
    revoked = _legacy_copy(voucher, sequence=3, state=VoucherState.REVOKED)
    world.program.funding_account.refresh_from_db()
    before = world.program.funding_account.balance

    migration.reserve_issued_vouchers(apps, None)
    migration.reserve_issued_vouchers(apps, None)  # a second run finds nothing left to reserve

    live.refresh_from_db()
    revoked.refresh_from_db()
    world.program.funding_account.refresh_from_db()
    assert Account.objects.get(pk=live.reserve_account_id).balance == 7000
    assert Account.objects.get(pk=revoked.reserve_account_id).balance == 0
    assert world.program.funding_account.balance == before - 7000
    assert reconciliation_run().ok

    assert redeem(world.terminal_client, [{"qr": app_qr(live)}], 7000).status_code == 201
    assert Account.objects.get(pk=live.reserve_account_id).balance == 0
    assert reconciliation_run().ok
