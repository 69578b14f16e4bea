"""Voucher money a terminal or the platform moves: a void and a settlement are audit rows."""

import pytest

from tests.audit.conftest import only_row
from tests.vouchers.conftest import _at_start, clock_at, post, redeem, world  # noqa: F401 - the vouchers set-up, clock included
from tests.vouchers.factories import app_qr, issue, settle_today
from vouchers.models import Redemption, Settlement

pytestmark = pytest.mark.django_db


def test_a_terminal_void_is_recorded_with_the_reversal(world, clock_at):  # noqa: F811
    [voucher] = issue(world.program, link=world.link)
    redemption_id = redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 4000).json()["redemption_id"]

    voided = post(world.terminal_client, f"/api/v1/terminal/voucher-redemptions/{redemption_id}/void")

    assert voided.status_code == 200, voided.content
    redemption = Redemption.objects.get(pk=redemption_id)
    row = only_row(action="voucher_redemption.void")
    assert (row.actor_kind, row.actor_terminal_id, row.program_id) == ("terminal", world.terminal_client.terminal.pk, world.program.pk)
    assert (row.before, row.after) == ({"voided_at": None}, {"voided_at": redemption.voided_at.isoformat()})
    assert row.details == {"amount": 4000, "void_transaction_id": redemption.void_transaction_id, "voucher_ids": [voucher.pk]}


def test_a_settlement_is_recorded_with_who_started_it(world, fake_gateway):  # noqa: F811
    [voucher] = issue(world.program, link=world.link)
    redeem(world.terminal_client, [{"qr": app_qr(voucher)}], voucher.face_value)

    settlement = settle_today(world.program, started_by="command:ops").settlements.get()

    assert isinstance(settlement, Settlement)
    row = only_row(action="voucher_settlement.create")
    assert (row.actor_kind, row.actor_user_id, row.object_id) == ("system", None, str(settlement.pk))
    assert row.after == {"status": settlement.status, "amount": voucher.face_value, "business_date": settlement.business_date.isoformat()}
    assert (row.details["started_by"], row.details["transaction_id"]) == ("command:ops", settlement.transaction_id)
