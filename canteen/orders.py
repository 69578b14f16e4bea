"""Pre-orders: place, change, cancel (guardians, before the cut-off), refund and collect (staff).

Money: placing an order puts a hold on the guardian's wallet in favour of the
canteen's merchant; the cut-off run posts it; cancelling voids it; a staff
refund after posting is a reversing transaction. A late-window order is charged
at once. Lock order everywhere: the child's food profile (canteen/allergy_alerts.py),
the order row, then stock rows, then accounts.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Subquery, prefetch_related_objects

from audit.services import audit_record
from canteen import calendar, configuration, menus, webhook_events
from canteen.errors import CollectionNotToday, DayNotStarted, OrderExists, OrderingClosed, OrderStateInvalid, OutOfStock
from canteen.models import DailyStock, Order, OrderLine, OrderStatus
from core import clock, school_time
from guardians.errors import PermissionMissing
from guardians.models import GuardianLink, User
from guardians.prepared import PreparedRead, insert_instance, insert_instances, update_row
from wallet import accounts, ledger
from wallet.models import Hold, LedgerTransaction

# A hold outlives the cut-off by this much, so a late cut-off run still finds it pending.
HOLD_GRACE = timedelta(days=7)


# An order placed under this ledger reference (its hold's, or a late order's payment's): compiled once.
# Each reference is found through its unique index first; joining the order to both tables and
# filtering on either reference made PostgreSQL scan the whole ledger (12 ms at 55,000 transactions).
_ORDER_BY_REFERENCE = PreparedRead(
    lambda reference: Order.objects.filter(
        Q(hold_id=Subquery(Hold.objects.filter(reference=reference).order_by().values("id")[:1]))
        | Q(payment_id=Subquery(LedgerTransaction.objects.filter(reference=reference).order_by().values("id")[:1]))
    )
    .select_related("student", "hold")
    .order_by("pk")[:1],
    reference=str,
)


@dataclass(frozen=True)
class LineRequest:
    item_id: int
    quantity: int


def order_place(*, link: GuardianLink, service_date: date, lines: list[LineRequest], note: str, reference: str) -> Order:
    """Place and pay for (hold) a child's order for a service day.

    Checked at request time in the school's time zone: the day is open for
    ordering, every item is offered to this child that day, no item carries a
    declared allergen or a ban, stock remains. Nothing is written on refusal.
    The order comes back with its lines, hold and student loaded, a replayed one too.
    """
    _require_money_permission(link)
    student, school = link.student, link.student.school
    existing = _ORDER_BY_REFERENCE.first(reference=reference)
    if existing is not None:
        prefetch_related_objects([existing], "lines")  # returned as a new order is: lines, hold and student in hand
        return existing
    settings = configuration.settings_for(school)
    # One instant judges the order and dates it: an order accepted before the cut-off is never
    # recorded as created after it, however long the rest of the request takes.
    now = clock.now()
    late = calendar.check_orderable(school, settings, service_date, now=now)
    priced = menus.priced_lines(student=student, settings=settings, day=service_date, lines=lines, late=late)
    total = sum(line.line_total for line in priced)
    stock_rows = _stock_rows(priced, service_date)
    try:
        with transaction.atomic(durable=True):
            menus.allergens_check_locked(student=student, priced=priced)
            _reserve_stock(stock_rows, priced, service_date)
            locked, wallet, payable = accounts.lock_wallet_and_payable(link.guardian, settings.merchant)
            order = insert_instance(
                Order(
                    student=student,
                    school=school,
                    service_date=service_date,
                    placed_by=link.guardian,
                    total=total,
                    late=late,
                    note=note,
                    created_at=now,
                    updated_at=now,
                )
            )
            # Kept as `order.lines.all()` answers them: the webhook and the receipt need no re-read.
            order._prefetched_objects_cache = {"lines": insert_instances([_line(order, line) for line in priced])}
            _take_payment(order, locked, wallet.pk, payable.pk, reference)
            webhook_events.order_placed_publish(order=order)
    except IntegrityError as error:
        # Another request placed this child's order for the day first; PostgreSQL names the constraint.
        if getattr(error.__cause__, "diag", None) and error.__cause__.diag.constraint_name == "one_live_order_per_child_day":
            raise OrderExists() from None
        raise
    return order


def order_change(*, link: GuardianLink, order: Order, lines: list[LineRequest], reference: str) -> Order:
    """Replace an order's items before the cut-off: release the old hold and stock, take the new ones."""
    _require_money_permission(link)
    settings = configuration.settings_for(order.school)
    late = calendar.check_orderable(order.school, settings, order.service_date)
    priced = menus.priced_lines(student=order.student, settings=settings, day=order.service_date, lines=lines, late=late)
    wallet = accounts.guardian_wallet(link.guardian)
    payable = accounts.merchant_payable(settings.merchant)
    old_lines = list(order.lines.all())
    stock_rows = _stock_rows(priced + old_lines, order.service_date)
    with transaction.atomic(durable=True):
        menus.allergens_check_locked(student=order.student, priced=priced)
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.PLACED or order.late or order.hold is None:
            raise OrderStateInvalid("Only a pre-order that is still placed can be changed.")
        _release_stock(stock_rows, old_lines, order.service_date)
        _reserve_stock(stock_rows, priced, order.service_date)
        locked = ledger.lock_accounts([wallet.pk, payable.pk])
        if not ledger.hold_void_locked(accounts=locked, hold=order.hold):
            raise OrderStateInvalid("The order has already been charged.")
        order.lines.all().delete()
        OrderLine.objects.bulk_create([_line(order, line) for line in priced])
        order.total = sum(line.line_total for line in priced)
        order.allergen_alerts = []  # the new lines passed the child's profile as it is now
        order.updated_at = clock.now()
        order.save(update_fields=["total", "allergen_alerts", "updated_at"])
        _take_payment(order, locked, wallet.pk, payable.pk, reference)
    return order


def order_cancel(*, order: Order, by_user: User, reason: str, link: GuardianLink | None = None) -> Order:
    """Cancel before the cut-off with the hold voided (nothing was charged). Idempotent."""
    if link is not None:
        _require_money_permission(link)
    settings = configuration.settings_for(order.school)
    if calendar.cutoff_instant(order.school, order.service_date) <= clock.now():
        raise OrderingClosed("After the cut-off only school staff can refund an order.")
    wallet = accounts.guardian_wallet(order.placed_by)
    payable = accounts.merchant_payable(settings.merchant)
    stock_rows = _stock_rows(list(order.lines.all()), order.service_date)
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status != OrderStatus.PLACED or order.hold is None:
            raise OrderStateInvalid("This order can no longer be cancelled; ask the school for a refund.")
        _release_stock(stock_rows, list(order.lines.all()), order.service_date)
        locked = ledger.lock_accounts([wallet.pk, payable.pk])
        if not ledger.hold_void_locked(accounts=locked, hold=order.hold):
            raise OrderStateInvalid("The order has already been charged; ask the school for a refund.")
        _set_cancelled(order, OrderStatus.CANCELLED, by_user, reason)
    return order


def order_refund(*, order: Order, staff_user: User, reference: str) -> Order:
    """Staff refund an order at any time: void the hold if still pending, else reverse the payment."""
    settings = configuration.settings_for(order.school)
    wallet = accounts.guardian_wallet(order.placed_by)
    payable = accounts.merchant_payable(settings.merchant)
    stock_rows = _stock_rows(list(order.lines.all()), order.service_date)
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
            return order
        status_before = order.status
        _release_stock(stock_rows, list(order.lines.all()), order.service_date)
        locked = ledger.lock_accounts([wallet.pk, payable.pk])
        if order.hold is not None and ledger.hold_void_locked(accounts=locked, hold=order.hold):
            _set_cancelled(order, OrderStatus.REFUNDED, staff_user, "staff_refund")
            _audit_refund(order, staff_user, status_before, {"hold_id": order.hold_id, "hold_voided": True})
            return order
        if order.hold is not None and order.payment is None:
            order.payment = Hold.objects.get(pk=order.hold_id).posted_transaction
        order.refund = ledger.reverse_locked(
            accounts=locked,
            original=order.payment,
            reference=reference,
            actor=f"user:{staff_user.pk}",
            legs=[ledger.Leg(payable.pk, -order.total), ledger.Leg(wallet.pk, order.total)],
            memo=f"Refund of canteen order {order.receipt_number}",
        )
        order.save(update_fields=["refund", "payment"])
        _set_cancelled(order, OrderStatus.REFUNDED, staff_user, "staff_refund")
        _audit_refund(order, staff_user, status_before, {"refund_transaction_id": order.refund.pk})
    return order


def _audit_refund(order: Order, staff_user: User, status_before: str, money: dict) -> None:
    audit_record(
        action="canteen.order_refund",
        object_type="canteen.order",
        object_id=order.pk,
        school_id=order.school_id,
        before={"status": status_before},
        after={"status": order.status},
        details={"amount": order.total, "receipt_number": order.receipt_number, **money},
        actor=staff_user,
    )


def order_mark_collected(*, order: Order, staff_user: User) -> Order:
    """Hand the bag over: only on the order's own service day, judged in the school's time zone.

    A bag collected a day early would be a meal the kitchen never made (and a refund
    the system could no longer give); a day late, it is a no-show to settle by refund.
    """
    now = clock.now()
    today = school_time.school_today(order.school, at=now)
    if order.service_date != today:
        raise CollectionNotToday(service_date=order.service_date.isoformat(), school_today=today.isoformat())
    with transaction.atomic():
        status_before = Order.objects.select_for_update().filter(pk=order.pk).values_list("status", flat=True).first()
        updated = Order.objects.filter(
            pk=order.pk, service_date=today, status__in=[OrderStatus.PLACED, OrderStatus.NOT_COLLECTED]
        ).update(status=OrderStatus.FULFILLED, collected_at=now, updated_at=now)
        order.refresh_from_db()
        if not updated and order.status != OrderStatus.FULFILLED:
            raise OrderStateInvalid(f"A {order.status} order cannot be collected.")
        if updated:
            audit_record(
                action="canteen.order_collect",
                object_type="canteen.order",
                object_id=order.pk,
                school_id=order.school_id,
                before={"status": status_before, "collected_at": None},
                after={"status": order.status, "collected_at": order.collected_at},
                actor=staff_user,
            )
    return order


def day_close(*, school, service_date: date) -> list[Order]:
    """End of service: every order still placed is marked not collected. Returns them (the uncollected report).

    Only on the day or after it: closing a day not yet served would mark its orders uncollected before
    the kitchen has handed a single bag over."""
    today = school_time.school_today(school)
    if service_date > today:
        raise DayNotStarted(service_date=service_date.isoformat(), school_today=today.isoformat())
    with transaction.atomic():
        uncollected = Order.objects.filter(school=school, service_date=service_date, status=OrderStatus.PLACED)
        ids = list(uncollected.values_list("pk", flat=True))
        Order.objects.filter(pk__in=ids).update(status=OrderStatus.NOT_COLLECTED, updated_at=clock.now())
        audit_record(
            action="canteen.day_close",
            object_type="canteen.service_day",
            object_id=service_date.isoformat(),
            school_id=school.pk,
            before={"status": OrderStatus.PLACED},
            after={"status": OrderStatus.NOT_COLLECTED},
            details={"order_ids": ids},
        )
    return list(Order.objects.filter(pk__in=ids).select_related("student").prefetch_related("lines"))


# --- Helpers ----------------------------------------------------------------


def _take_payment(order: Order, locked: dict, wallet_id: int, payable_id: int, reference: str) -> None:
    """A pre-order holds the money until the cut-off; a late order is charged at once."""
    if order.late:
        order.payment = ledger.post_locked(
            accounts=locked,
            kind="canteen_order",
            reference=reference,
            legs=[ledger.Leg(wallet_id, -order.total), ledger.Leg(payable_id, order.total)],
            actor=f"user:{order.placed_by.user_id}",
            memo=f"Canteen order {order.receipt_number}",
        )
    else:
        order.hold = ledger.hold_place_locked(
            accounts=locked,
            account_id=wallet_id,
            counterparty_id=payable_id,
            amount=order.total,
            kind="canteen_order",
            reference=reference,
            expires_at=calendar.cutoff_instant(order.school, order.service_date) + HOLD_GRACE,
            memo=f"Canteen order {order.receipt_number}",
        )
    update_row(Order, order.pk, {"hold_id": order.hold_id, "payment_id": order.payment_id})


def _stock_rows(lines, day: date) -> list[int]:
    """Ids of the stock rows to lock (created on first use, outside the lock)."""
    limited = {line.menu_item_id for line in lines if line.menu_item.daily_stock_limit is not None}
    ids = []
    for item_id in sorted(limited):
        try:
            with transaction.atomic():
                row, _ = DailyStock.objects.get_or_create(menu_item_id=item_id, service_date=day)
        except IntegrityError:
            row = DailyStock.objects.get(menu_item_id=item_id, service_date=day)
        ids.append(row.pk)
    return ids


def _reserve_stock(stock_row_ids: list[int], lines, day: date) -> None:
    if not stock_row_ids:
        return
    rows = {row.menu_item_id: row for row in DailyStock.objects.select_for_update().filter(pk__in=stock_row_ids).order_by("pk")}
    for line in lines:
        row = rows.get(line.menu_item_id)
        if row is None:
            continue
        limit = line.menu_item.daily_stock_limit
        if row.ordered + line.quantity > limit:
            raise OutOfStock(item_id=line.menu_item_id, name=line.menu_item.name, remaining=max(limit - row.ordered, 0))
        row.ordered += line.quantity
        DailyStock.objects.filter(pk=row.pk).update(ordered=row.ordered)


def _release_stock(stock_row_ids: list[int], lines, day: date) -> None:
    if not stock_row_ids:
        return
    list(DailyStock.objects.select_for_update().filter(pk__in=stock_row_ids).order_by("pk"))
    for line in lines:
        DailyStock.objects.filter(menu_item_id=line.menu_item_id, service_date=day, pk__in=stock_row_ids).update(
            ordered=F("ordered") - line.quantity
        )


def _line(order: Order, priced) -> OrderLine:
    return OrderLine(
        order=order,
        menu_item=priced.menu_item,
        name=priced.menu_item.name,
        unit_price=priced.menu_item.price,
        quantity=priced.quantity,
        category=priced.menu_item.category,
        allergens=list(priced.menu_item.allergens),
    )


def _set_cancelled(order: Order, status: str, user: User, reason: str) -> None:
    order.status = status
    order.cancelled_at = clock.now()
    order.cancelled_by = user
    order.cancel_reason = reason[:40]
    order.updated_at = clock.now()
    order.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])


def _require_money_permission(link: GuardianLink) -> None:
    if not link.is_active or not link.can_manage_money:
        raise PermissionMissing("Ordering spends money: your link to this student needs the money permission.")
