"""A pre-order's placement and change as one database call each (canteen/sql/orders.pg.sql).

canteen/orders.py judges first what needs no lock (the money permission, the cut-off, the day, a
leaver, each item and its price). The function then takes the locks in the canteen's order (the
child's food profile, the order, the day's stock rows, the wallet), judges again what may have changed
since the read (a newly declared allergen, a live order, stock, funds, the order's state) and writes
the order, its lines, the stock counts, the hold (a late order: its charge) and the webhook outbox.
Inside the Idempotency-Key's transaction that is one round trip before the one commit. A refusal comes
back as the row's `code` and is raised here as its domain error; nothing of the order was written.
"""

import json
from datetime import date, datetime

from django.db import connection

from canteen.errors import OrderExists, OrderStateInvalid, OutOfStock
from canteen.menus import PricedLine, allergen_conflict
from canteen.models import LIVE_ORDER_STATUSES, Order, OrderLine, OrderStatus, ServicePeriod
from core.locks import lock_timeout_setting
from core.webhooks.publish import delivery_enqueue
from guardians.models import Guardian, Student
from wallet.errors import InsufficientFunds
from wallet.models import Hold, HoldStatus

_PLACE = "SELECT * FROM canteen_order_place(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s)"
_CHANGE = "SELECT * FROM canteen_order_change(%s, %s, %s, %s::jsonb, %s, %s, %s, %s)"


def _stored_line(line: PricedLine) -> dict:
    """A line as the functions store it (canteen_order_lines_write): what was bought, as it is now on the menu."""
    item = line.menu_item
    return {"item_id": item.pk, "quantity": line.quantity, "name": item.name, "unit_price": item.price, "category": item.category,
            "allergens": list(item.allergens)}


def lines_json(priced: list[PricedLine]) -> str:
    return json.dumps([_stored_line(line) for line in priced])


_LINE_FIELDS = ["id", "order_id", "menu_item_id", "name", "unit_price", "quantity", "category", "allergens"]


def _receipt_lines(order_id: int, line_ids: list[int], priced: list[PricedLine]) -> list[OrderLine]:
    """The lines the function wrote (their ids come in the order of `priced`), loaded as the rows they are."""
    return [
        OrderLine.from_db(connection.alias, _LINE_FIELDS, [line_id, order_id, *_line_values(_stored_line(line))])
        for line_id, line in zip(line_ids, priced, strict=True)
    ]


def _line_values(stored: dict) -> list:
    return [stored["item_id"], stored["name"], stored["unit_price"], stored["quantity"], stored["category"], stored["allergens"]]


def place(
    *,
    student: Student,
    guardian: Guardian,
    merchant_id: int,
    period: ServicePeriod,
    service_date: date,
    late: bool,
    note: str,
    priced: list[PricedLine],
    reference: str,
    hold_expires_at: datetime,
    now: datetime,
) -> tuple[int, Order | None]:
    """(the order's id, the order as written, with its receipt lines) or, for a replay, (its id, None).
    Raises a refusal."""
    params = [
        student.pk, student.school_id, guardian.pk, merchant_id, period.pk, service_date, late, note, lines_json(priced),
        LIVE_ORDER_STATUSES, reference, hold_expires_at, f"user:{guardian.user_id}", now, lock_timeout_setting(),
    ]
    row = _call(_PLACE, params)
    if row["code"] == "replayed":
        return row["order_id"], None
    if row["code"] != "placed":
        raise _refusal(row, student)
    for delivery_id in row["delivery_ids"] or []:
        delivery_enqueue(delivery_id)
    order = Order.from_db(
        connection.alias,
        _ORDER_FIELDS,
        [row["order_id"], student.pk, student.school_id, service_date, period.pk, guardian.pk, OrderStatus.PLACED,
         row["total"], late, note, row["hold_id"], row["transaction_id"], None, now, now, None, None, "", None, []],
    )
    order.student, order.period, order.placed_by = student, period, guardian
    order.receipt_lines = _receipt_lines(row["order_id"], row["line_ids"], priced)
    if row["hold_id"] is not None:  # what the answer's payment state reads
        order.hold = Hold.from_db(connection.alias, ["id", "status"], [row["hold_id"], HoldStatus.PENDING])
    return row["order_id"], order


def change(
    *, order: Order, guardian: Guardian, merchant_id: int, priced: list[PricedLine], reference: str, hold_expires_at: datetime,
    now: datetime,
) -> None:
    """Replace the order's lines and hold; a replay of this very change does nothing. Raises a refusal."""
    params = [order.pk, guardian.pk, merchant_id, lines_json(priced), reference, hold_expires_at, now, lock_timeout_setting()]
    row = _call(_CHANGE, params)
    if row["code"] not in ("changed", "replayed"):
        raise _refusal(row, order.student)


# Order.from_db's field order in `place`: the row the function inserted, as it inserted it.
_ORDER_FIELDS = [
    "id", "student_id", "school_id", "service_date", "period_id", "placed_by_id", "status", "total", "late", "note",
    "hold_id", "payment_id", "refund_id", "created_at", "updated_at", "cancelled_at", "cancelled_by_id", "cancel_reason",
    "collected_at", "allergen_alerts",
]


def _call(sql: str, params: list) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    for name in ("conflicts", "out_of_stock"):  # jsonb arrives as its text, as for every Django query
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


def _refusal(row: dict, student: Student) -> Exception:
    code = row["code"]
    if code == "allergen_conflict":
        return allergen_conflict(student, row["conflicts"])
    if code == "order_exists":
        return OrderExists()
    if code == "out_of_stock":
        return OutOfStock(**row["out_of_stock"])
    if code == "insufficient_funds":
        return InsufficientFunds(available=row["available"])
    if code == "order_not_placed":
        return OrderStateInvalid("Only a pre-order that is still placed can be changed.")
    if code == "order_charged":
        return OrderStateInvalid("The order has already been charged.")
    raise ValueError(f"the canteen's order function answered an unknown code {code!r}")
