"""Redemptions and settlement runs as /metrics counts them (core/metrics.py)."""

import pytest

from tests.metrics_scrape import moved, scrape
from tests.vouchers.conftest import redeem, sydney
from tests.vouchers.factories import app_qr, issue
from vouchers.tasks import settle_vouchers_daily

pytestmark = pytest.mark.django_db


def test_redemptions_and_settlement_runs_are_counted(world, clock_at, fake_gateway):
    [voucher] = issue(world.program, link=world.link)
    before = scrape()
    redeemed = redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 6000)
    too_much = redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 9000)  # more than the voucher has left
    assert (redeemed.status_code, too_much.status_code // 100) == (201, 4), too_much.content
    clock_at(sydney(2026, 3, 3, 2, 0))  # the next night
    assert len(settle_vouchers_daily()) == 1
    assert settle_vouchers_daily() == []
    after = scrape()

    decision = {"decision": "voucher_redeem"}
    assert moved(before, after, "tuckbox_money_decisions_total", **decision, outcome="accepted", code="") == 1
    assert moved(before, after, "tuckbox_money_decisions_total", **decision, outcome="declined", code=too_much.json()["code"]) == 1
    assert moved(before, after, "tuckbox_batch_runs_total", job="voucher_settlement", outcome="completed") == 2
    assert moved(before, after, "tuckbox_batch_items_total", job="voucher_settlement") == 1
    assert moved(before, after, "tuckbox_batch_run_duration_seconds_count", job="voucher_settlement") == 2
