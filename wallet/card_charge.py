"""A card sale at a terminal: one call to `wallet_card_charge` (wallet/sql/card_charge.pg.sql) decides it.

Before the call, what needs no data: the amount is in range and the charge's categories are the
merchant's registered ones, narrowed to the terminal's (wallet/charge_categories.py). The function does
the rest in one round trip and one statement (so one transaction of its own when the caller has none):
the card behind the identifier if the school accepts the merchant, the student's card-account lock,
status, bans, caps in the school's day and week, balance; then the ledger transaction, the charge row and
the webhook outbox. A decline comes back as the row's `code` and is raised here as its domain error.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from core import clock
from core.locks import lock_timeout_setting
from core.webhooks.publish import delivery_enqueue
from guardians.models import Student
from wallet.card_identifiers import card_identifier_hash
from wallet.charge_categories import charge_categories
from wallet.errors import (
    AmountOutOfRange,
    CardFrozen,
    CategoryBanned,
    DailyCapExceeded,
    InsufficientFunds,
    UnknownCard,
    WeeklyCapExceeded,
)
from wallet.models import CardCharge, Terminal
from wallet.notifications import notify_low_balance_if_crossed


@dataclass(frozen=True)
class ChargeApproved:
    charge: CardCharge
    remaining_balance: int
    replayed: bool = False
    status: str = "approved"  # what the terminal is told; a decline is raised instead


_CALL = "SELECT * FROM wallet_card_charge(%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s)"


def card_charge(
    *,
    terminal: Terminal,
    card_identifier: str,
    amount: int,
    categories: list[str] | None,
    description: str,
    idempotency_key: str,
    card=None,
) -> ChargeApproved:
    """Charge a student's card at a merchant terminal (see the module and the SQL file for the rules).

    `card`, a card the caller already found for this merchant (canteen/counter.py), changes nothing:
    the function finds the card by its identifier under the same rules.
    """
    _check_amount(amount)
    categories = charge_categories(merchant=terminal.merchant, requested=categories)
    now = clock.now()
    params = [
        terminal.pk,
        terminal.merchant_id,
        card_identifier_hash(card_identifier),
        amount,
        DjangoJSONEncoder().encode(categories),
        description,
        description or terminal.merchant.name,
        f"card_charge:terminal:{terminal.pk}:{idempotency_key}",
        now,
        DjangoJSONEncoder().default(now),
        lock_timeout_setting(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_CALL, params)
        columns = [column.name for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    for name in ("categories", "banned"):  # jsonb arrives as its text, as for every Django query
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    if row["code"] != "approved":
        raise _decline(row)
    charge = _charge_from(row, terminal)
    for delivery_id in row["delivery_ids"] or []:
        delivery_enqueue(delivery_id)
    if not row["replayed"]:
        crossed = {
            "student_id": row["student_id"], "before": row["balance_before"], "after": row["remaining_balance"],
            "threshold": row["low_balance_threshold"], "auto_topup_threshold": row["auto_topup_threshold"],
        }
        # robust: the charge is committed; a failing notice is logged, never a 500 for the terminal.
        transaction.on_commit(lambda: notify_low_balance_if_crossed(**crossed), robust=True)
    return ChargeApproved(charge, row["remaining_balance"], replayed=row["replayed"])


def _check_amount(amount: int) -> None:
    maximum = settings.CARD_CHARGE_MAX_CENTS
    if type(amount) is not int or not 0 < amount <= maximum:
        raise AmountOutOfRange(f"The amount must be between 1 and {maximum} cents.", minimum=1, maximum=maximum)


def _decline(row: dict) -> Exception:
    code = row["code"]
    if code == "unknown_card":
        return UnknownCard()
    if code == "card_frozen":
        return CardFrozen(f"This card is {row['card_status']}.")
    if code == "category_banned":
        return CategoryBanned(banned_categories=row["banned"])
    if code == "daily_cap_exceeded":
        return DailyCapExceeded(cap=row["cap"], spent=row["spent"])
    if code == "weekly_cap_exceeded":
        return WeeklyCapExceeded(cap=row["cap"], spent=row["spent"])
    if code == "insufficient_funds":
        return InsufficientFunds(available=row["balance_before"])
    raise ValueError(f"wallet_card_charge answered an unknown code {code!r}")


_CHARGE_FIELDS = ["id", "terminal_id", "merchant_id", "student_id", "card_id", "amount", "refunded_amount", "categories",
                  "description", "transaction_id", "created_at"]
_STUDENT_FIELDS = ["id", "school_id", "first_name", "last_name", "year_level"]


def _charge_from(row: dict, terminal: Terminal) -> CardCharge:
    """The charge and its student as the function returned them (Model.from_db: the fields not returned
    are deferred, so reading one loads it rather than showing a default)."""
    db = connection.alias
    charge = CardCharge.from_db(
        db,
        _CHARGE_FIELDS,
        [row["charge_id"], terminal.pk, terminal.merchant_id, row["student_id"], row["card_id"], row["amount"],
         row["refunded_amount"], row["categories"], row["description"], row["transaction_id"], row["created_at"]],
    )
    charge.student = Student.from_db(
        db, _STUDENT_FIELDS, [row["student_id"], row["school_id"], row["first_name"], row["last_name"], row["year_level"]]
    )
    charge.terminal = terminal
    return charge
