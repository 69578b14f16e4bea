"""What vouchers tell webhook subscribers (the program's). Ids and integer cents only.

Each is recorded in the transaction that moves the money, so once per movement: `voucher.redeemed`
by the redemption's own database function (vouchers/sql/voucher_redeem.pg.sql), the settlement's
below by settlement.py.
"""

from collections import defaultdict

from core.webhooks import webhook_event_publish
from core.webhooks.event_types import PROGRAM, EventType, register
from vouchers.models import Settlement

register(
    EventType(
        "voucher.redeemed",
        PROGRAM,
        "A provider redeemed one or more of the program's vouchers at a terminal.",
        {"redemption_id": 301, "merchant_id": 9, "amount": 10000, "currency": "AUD", "category": "sport",
         "voucher_ids": [1201], "created_at": "2026-11-28T05:10:00Z"},
    ),
    EventType(
        "voucher.settlement_paid",
        PROGRAM,
        "A settlement that pays a provider was paid out; `amount` is this program's part of it (its redemptions "
        "less voids). A settlement covering several programs sends each its own event.",
        {"settlement_id": 55, "merchant_id": 9, "business_date": "2026-11-27", "amount": 10000, "currency": "AUD",
         "paid_at": "2026-11-28T15:50:00Z"},
    ),
)


def settlement_paid_publish(*, settlement: Settlement) -> None:
    """Call in `settlement.settlement_pay`, in one transaction with the guarded update to PAID, when it updated a row.

    A settlement pays one merchant for several programs' redemptions: each program hears of its own part.
    """
    per_program: dict[int, int] = defaultdict(int)
    for program_id, amount in settlement.redemptions.values_list("program_id", "amount"):
        per_program[program_id] += amount
    for program_id, amount in settlement.voided_redemptions.values_list("program_id", "amount"):
        per_program[program_id] -= amount
    for program_id, amount in sorted(per_program.items()):
        webhook_event_publish(
            event_type="voucher.settlement_paid",
            program_id=program_id,
            data={
                "settlement_id": settlement.pk,
                "merchant_id": settlement.merchant_id,
                "business_date": settlement.business_date,
                "amount": amount,
                "currency": settlement.currency,
                "paid_at": settlement.paid_at,
            },
        )
