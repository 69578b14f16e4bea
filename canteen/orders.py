"""Pre-orders: place, change, cancel (guardians, before the cut-off), refund and collect (staff).

Money: placing an order puts a hold on the guardian's wallet in favour of the
canteen's merchant; the cut-off run posts it; cancelling voids it; a staff
refund after posting is a reversing transaction. A late-window order is charged
at once. Lock order everywhere: the child's food profile (canteen/allergy_alerts.py),
the order row, then stock rows, then accounts.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects

from audit.services import audit_record
from canteen import calendar, configuration, menus, periods, queries, webhook_events
from canteen.errors import CollectionNotToday, DayNotStarted, OrderExists, OrderingClosed, OrderStateInvalid, OutOfStock
from canteen.models import DailyStock, Order, OrderLine, OrderStatus
from core import clock, school_time
from core.locks import lock_objects, lock_one, lock_one_or_none
from guardians import leavers
from guardians.errors import PermissionMissing, StudentHasLeft
from guardians.models import GuardianLink, User
from wallet import accounts, ledger
from wallet.models import Hold

# A hold outlives the cut-off by this much, so a late cut-off run still finds it pending.
HOLD_GRACE = timedelta(days=7)


@dataclass(frozen=True)
class LineRequest:
    item_id: int
    quantity: int


def order_place(
    *, link: GuardianLink, service_date: date, lines: list[LineRequest], note: str, reference: str, period_id: int | None = None
) -> Order:
    """Place and pay for (hold) a child's order for a service day and period (none: the school's default period).

    One transaction and one commit: the replay check, the rules, the locks, the hold and the
    order. Checked in the school's time zone: the period is open for ordering that day (its own
    cut-off), every item is offered to this child in that period that day, no item carries a
    declared allergen (re-checked under the food profile's lock) or a ban, stock remains (under
    the stock rows' locks), the wallet covers it (under the accounts' locks). One live order per
    child, period and day (the database's constraint). Nothing is written on refusal. The order
    comes back with its lines, hold, student and period loaded, a replayed one too.
    """
    _require_money_permission(link)
    student, school = link.student, link.student.school
    try:
        # Not durable: the guardian's request holds it inside the Idempotency-Key's transaction, so the
        # key, the order and the stored answer commit together (api/idempotency.py, atomic mode).
        with transaction.atomic():
            existing = _order_by_reference(reference)
            if existing is not None:
                return existing
            settings = configuration.settings_for(school)
            period = periods.period_for_order(school, period_id)
            # One instant judges the order and dates it: an order accepted before the cut-off is never
            # recorded as created after it, however long the rest of the request takes.
            now = clock.now()
            late = calendar.check_orderable(school, settings, service_date, period=period, now=now)
            if leavers.student_gone_on(student.pk, service_date):
                raise StudentHasLeft(service_date=service_date.isoformat())
            priced = menus.priced_lines(student=student, settings=settings, day=service_date, period=period, lines=lines, late=late)
            menus.allergens_check_locked(student=student, priced=priced)
            _stock_adjust(service_date, reserve=priced)
            # A late order is charged now: both accounts locked. A pre-order holds the wallet's money and
            # only names the payable, so pre-orders of one school never wait on each other's payable lock.
            lock = accounts.lock_wallet_and_payable if late else accounts.lock_wallet_naming_payable
            locked, wallet, payable = lock(link.guardian, settings.merchant)
            order = Order.objects.create(
                student=student,
                school=school,
                service_date=service_date,
                period=period,
                placed_by=link.guardian,
                total=sum(line.line_total for line in priced),
                late=late,
                note=note,
                created_at=now,
                updated_at=now,
            )
            OrderLine.objects.bulk_create([_line(order, line) for line in priced])
            _take_payment(order, locked, wallet.pk, payable.pk, reference)
            prefetch_related_objects([order], "lines")  # the webhook and the receipt read them
            webhook_events.order_placed_publish(order=order)
    except IntegrityError as error:
        # Another request placed this child's order for the period and day first; PostgreSQL names the constraint.
        if getattr(error.__cause__, "diag", None) and error.__cause__.diag.constraint_name == "one_live_order_per_child_period_day":
            raise OrderExists() from None
        raise
    return order


def order_change(*, link: GuardianLink, order: Order, lines: list[LineRequest], reference: str) -> Order:
    """Replace an order's items before its period's cut-off: release the old hold and stock, take the new ones.

    One transaction and one commit, like placing: the rules are judged, the food profile, the
    order, the stock rows and the accounts are locked in that order, the state is checked under
    the order's lock. A retry of a change already made (its hold carries `reference`) changes nothing.
    """
    _require_money_permission(link)
    with transaction.atomic():  # inside the Idempotency-Key's transaction, as placing is
        school = order.school
        settings = configuration.settings_for(school)
        late = calendar.check_orderable(school, settings, order.service_date, period=order.period)
        priced = menus.priced_lines(
            student=order.student, settings=settings, day=order.service_date, period=order.period, lines=lines, late=late
        )
        menus.allergens_check_locked(student=order.student, priced=priced)
        order = Order.objects.select_for_update(of=("self",)).select_related("hold", "student", "school", "period").get(pk=order.pk)
        if order.hold is not None and order.hold.reference == reference:
            return order  # this very change, committed before its answer was stored
        if order.status != OrderStatus.PLACED or order.late or order.hold is None:
            raise OrderStateInvalid("Only a pre-order that is still placed can be changed.")
        old_lines = list(order.lines.select_related("menu_item"))
        _stock_adjust(order.service_date, reserve=priced, release=old_lines)
        locked, wallet, payable = accounts.lock_wallet_naming_payable(link.guardian, settings.merchant)  # pre-orders only
        if not ledger.hold_void_locked(accounts=locked, hold=order.hold):
            raise OrderStateInvalid("The order has already been charged.")
        OrderLine.objects.filter(order=order).delete()
        OrderLine.objects.bulk_create([_line(order, line) for line in priced])
        order.total = sum(line.line_total for line in priced)
        order.allergen_alerts = []  # the new lines passed the child's profile as it is now
        order.updated_at = clock.now()
        order.save(update_fields=["total", "allergen_alerts", "updated_at"])
        _take_payment(order, locked, wallet.pk, payable.pk, reference)
    return order


def order_cancel(*, order: Order, by_user: User, reason: str, link: GuardianLink | None = None) -> Order:
    """Cancel before the period's cut-off with the hold voided (nothing was charged). Idempotent."""
    if link is not None:
        _require_money_permission(link)
    settings = configuration.settings_for(order.school)
    if calendar.cutoff_instant(order.school, order.service_date, order.period) <= clock.now():
        raise OrderingClosed("After the cut-off only school staff can refund an order.")
    wallet = accounts.guardian_wallet(order.placed_by)
    payable = accounts.merchant_payable(settings.merchant)
    with transaction.atomic(durable=True):
        order = lock_one(Order.objects.select_related("hold").filter(pk=order.pk))
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status != OrderStatus.PLACED or order.hold is None:
            raise OrderStateInvalid("This order can no longer be cancelled; ask the school for a refund.")
        _stock_adjust(order.service_date, release=list(order.lines.select_related("menu_item")))
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
    with transaction.atomic(durable=True):
        order = lock_one(Order.objects.filter(pk=order.pk), key=True)  # refund and payment, one-to-one, are set
        if order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
            return order
        status_before = order.status
        _stock_adjust(order.service_date, release=list(order.lines.select_related("menu_item")))
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
        status_before = lock_one_or_none(Order.objects.filter(pk=order.pk).values_list("status", flat=True))
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
    """A pre-order holds the money until its period's cut-off; a late order is charged at once."""
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
            expires_at=calendar.cutoff_instant(order.school, order.service_date, order.period) + HOLD_GRACE,
            memo=f"Canteen order {order.receipt_number}",
        )
    order.save(update_fields=["hold", "payment"])


def _order_by_reference(reference: str) -> Order | None:
    """The order already placed under this ledger reference, with what its answer shows (a replay:
    rare, so the ORM loads it; the probe every placement makes is one indexed statement)."""
    order_id = queries.order_id_by_reference(reference)
    if order_id is None:
        return None
    return Order.objects.select_related("student", "hold", "period").prefetch_related("lines").get(pk=order_id)


def _stock_adjust(day: date, *, reserve=(), release=()) -> None:
    """Move the day's counts of stock-limited items: `release` lines give units back, `reserve` lines take them.

    The rows are created if missing (INSERT ... ON CONFLICT DO NOTHING, inside the caller's
    transaction) and locked in primary-key order; the limit is checked under the lock, after
    what `release` gives back, so a change that keeps its units never sells out against itself.
    """
    released: dict[int, int] = defaultdict(int)
    reserved: dict[int, int] = defaultdict(int)
    items = {}
    for line in release:
        released[line.menu_item_id] += line.quantity
        items[line.menu_item_id] = line.menu_item
    for line in reserve:
        reserved[line.menu_item_id] += line.quantity
        items[line.menu_item_id] = line.menu_item
    limited = sorted(pk for pk, item in items.items() if item.daily_stock_limit is not None and reserved[pk] != released[pk])
    if not limited:
        return
    DailyStock.objects.bulk_create(
        [DailyStock(menu_item_id=pk, service_date=day) for pk in limited if reserved[pk] > released[pk]], ignore_conflicts=True
    )
    rows = lock_objects(DailyStock.objects.filter(menu_item_id__in=limited, service_date=day))
    for row in rows:
        pk, item = row.menu_item_id, items[row.menu_item_id]
        left_after_release = max(row.ordered - released[pk], 0)
        if reserved[pk] > released[pk] and left_after_release + reserved[pk] > item.daily_stock_limit:
            raise OutOfStock(item_id=pk, name=item.name, remaining=max(item.daily_stock_limit - left_after_release, 0))
        DailyStock.objects.filter(pk=row.pk).update(ordered=left_after_release + reserved[pk])


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
