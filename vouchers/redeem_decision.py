"""The database's half of a redemption: one call to `vouchers_redeem` (vouchers/sql/voucher_redeem.pg.sql).

The function takes the vouchers' row locks, checks every rule of `vouchers.rules` in the same
order, and writes the ledger transaction, the redemption, its lines and its `voucher.redeemed`
webhook event with the deliveries (returned, to enqueue after commit); or writes nothing and
answers the refusal's code and details. This module calls it and turns a code into the domain
error that `vouchers.rules` raises for the same refusal, so the preview and the redemption
answer alike.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from core.errors import ConflictError, DomainError
from vouchers.errors import (
    AmountExceedsRemaining,
    CategoryNotAllowed,
    CategoryRequired,
    MerchantApprovalExpired,
    MerchantApprovalSuspended,
    MerchantNotApproved,
    VoucherAlreadyRedeemed,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherRevoked,
    VoucherTiedToOtherProvider,
    WeekdayNotAllowed,
)
from vouchers.models import Program
from vouchers.rules import WEEKDAY_NAMES
from wallet.models import Terminal


class RedemptionLockTimeout(ConflictError):
    code = "lock_timeout"
    default_message = "The voucher is busy with another payment; try again in a moment."


@dataclass(frozen=True)
class Decision:
    code: str
    details: dict
    redemption_id: int | None
    category: str | None
    voucher_ids: list[int]
    forfeited: int
    now: datetime
    delivery_ids: list[int]  # the `voucher.redeemed` webhook deliveries to enqueue after commit
    transaction_id: int | None = None
    # Each line as the function wrote it, in the order applied, with its voucher's new values:
    # {id, voucher_id, amount, forfeited_amount, remaining_value, forfeited_value, state}.
    lines: list[dict] = field(default_factory=list)


def redeem_decide(
    *,
    voucher_ids: list[int],
    terminal: Terminal,
    amount: int,
    category: str | None,
    description: str,
    memo: str,
    reference: str,
    now: datetime,
    term_since: datetime | None,
    term_until: datetime | None,
) -> Decision:
    """Inside the caller's transaction: decide and, when the answer is `ok`, write the redemption."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT out_code, out_details, out_redemption_id, out_category, out_voucher_ids, out_forfeited, out_delivery_ids,"
            " out_transaction_id, out_lines"
            " FROM vouchers_redeem(%s::bigint[], %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                sorted(set(voucher_ids)),
                terminal.pk,
                terminal.merchant_id,
                amount,
                category,
                description,
                memo,
                reference,
                now,
                DjangoJSONEncoder().default(now),
                term_since,
                term_until,
                settings.VOUCHER_LOCK_TIMEOUT_MS or None,  # 0: set nothing, the connection's lock_timeout applies
            ],
        )
        code, details, redemption_id, booked, used, forfeited, delivery_ids, transaction_id, lines = cursor.fetchone()
    return Decision(
        code,
        _jsonb(details) or {},
        redemption_id,
        booked,
        list(used or []),
        forfeited or 0,
        now,
        list(delivery_ids or []),
        transaction_id,
        _jsonb(lines) or [],
    )


def _jsonb(value):
    """Django leaves jsonb undecoded on a raw cursor (its JSONField decodes it itself)."""
    return json.loads(value) if isinstance(value, str) else value


def refusal_error(code: str, details: dict, *, program: Program) -> DomainError:
    """The domain error a refusal code stands for, with the details the API shows."""
    if code == "voucher_expired":
        return VoucherExpired(expired_on=details["expired_on"])
    if code == "merchant_approval_suspended":
        return MerchantApprovalSuspended(reason=details["reason"])
    if code == "merchant_approval_expired":
        return MerchantApprovalExpired(lapsed=details["lapsed"])
    if code == "category_not_allowed":
        return CategoryNotAllowed(**details)
    if code == "category_required":
        return CategoryRequired(allowed=details["allowed"])
    if code == "weekday_not_allowed":
        return WeekdayNotAllowed(
            f"{program.name} vouchers cannot be used on a {WEEKDAY_NAMES[details['weekday']]}.",
            allowed_weekdays=details["allowed_weekdays"],
        )
    if code == "amount_exceeds_remaining":
        return AmountExceedsRemaining(remaining=details["remaining"], amount=details["amount"])
    simple = {
        error.code: error
        for error in (
            VoucherRevoked,
            VoucherCancelled,
            VoucherAlreadyRedeemed,
            VoucherNotFound,
            MerchantNotApproved,
            VoucherTiedToOtherProvider,
            RedemptionLockTimeout,
        )
    }
    if code not in simple:
        raise RuntimeError(f"vouchers_redeem answered an unknown code {code!r}")
    return simple[code]()
