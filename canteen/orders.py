"""Pre-orders: place, change, cancel (guardians, before the cut-off), refund and collect (staff).

Money: placing an order puts a hold on the guardian's wallet in favour of the
canteen's merchant; the cut-off run posts it; cancelling voids it; a staff
refund after posting is a reversing transaction. A late-window order is charged
at once. Placing and changing are one database call each (canteen/order_write.py).
Lock order everywhere: the child's food profile (canteen/allergy_alerts.py), the order
row, then stock rows, then accounts.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction

from audit.services import audit_record
from canteen import calendar, configuration, menus, order_write, periods, queries
from canteen.errors import CanteenNotConfigured, CollectionNotToday, DayNotStarted, OrderingClosed, OrderStateInvalid
from canteen.models import FoodProfile, Order, OrderStatus
from core import clock, school_time
from core.locks import lock_one, lock_one_or_none
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

    Judged here, in the school's time zone, on an unlocked read: the period is open for ordering that
    day (its own cut-off), the child has not left by then, every item is offered to this child in that
    period that day, and none carries a declared allergen or a ban. Then one database call
    (canteen/order_write.py) locks, judges again what may have changed (a newly declared allergen, one
    live order per child, period and day, stock, the wallet's funds) and writes the order, its lines,
    the hold and the webhook outbox. Inside the Idempotency-Key's transaction, the key, the order and
    the stored answer commit together (api/idempotency.py, atomic mode). Nothing is written on refusal.
    The order comes back with its lines, hold, student and period loaded, a replayed one too.
    """
    _require_money_permission(link)
    student, school = link.student, link.student.school
    # What the checks need, in one read: the settings, the period, the day's terms and closures, a
    # leaving decision, the food profile, an order placed already under this reference, and the items.
    context = queries.order_context(
        school_id=school.pk, student_id=student.pk, day=service_date, period_id=period_id, reference=reference,
        item_ids=[line.item_id for line in lines],
    )
    if context is None:
        raise CanteenNotConfigured()
    if context.placed_order_id is not None:
        return _order_loaded(context.placed_order_id)
    settings = context.settings
    period = context.period or periods.period_for_order(school, period_id)  # refuses an unknown one, opens the default
    # One instant judges the order and dates it: an order accepted before the cut-off is never
    # recorded as created after it, however long the rest of the request takes.
    now = clock.now()
    late = calendar.check_orderable(school, settings, service_date, period=period, now=now, term_and_closure=context.term_and_closure)
    if context.student_gone:
        raise StudentHasLeft(service_date=service_date.isoformat())
    priced = menus.priced_lines(
        student=student, settings=settings, day=service_date, period=period, lines=lines, late=late,
        profile=context.profile or FoodProfile(student=student),  # none yet: nothing declared (the call opens it)
        items=context.items,
    )
    order_id, order = order_write.place(
        student=student,
        guardian=link.guardian,
        merchant_id=settings.merchant_id,
        period=period,
        service_date=service_date,
        late=late,
        note=note,
        priced=priced,
        reference=reference,
        hold_expires_at=_hold_expiry(school, service_date, period),
        now=now,
    )
    if order is None:  # placed under this reference meanwhile
        return _order_loaded(order_id)
    return order


def order_change(*, link: GuardianLink, order: Order, lines: list[LineRequest], reference: str) -> Order:
    """Replace an order's items before its period's cut-off: release the old hold and stock, take the new ones.

    The rules are judged as for placing, for the order's own period; then one database call locks the
    food profile, the order, the stock rows and the wallets in that order, checks the order's state
    under its lock and writes. Whoever changes the order pays for it from then on. A retry of a change
    already made (its hold carries `reference`) changes nothing. Returns the order as the receipt shows it.
    """
    _require_money_permission(link)
    school = order.school
    settings = configuration.settings_for(school)
    now = clock.now()
    late = calendar.check_orderable(school, settings, order.service_date, period=order.period, now=now)
    priced = menus.priced_lines(
        student=order.student, settings=settings, day=order.service_date, period=order.period, lines=lines, late=late
    )
    order_write.change(
        order=order,
        guardian=link.guardian,
        merchant_id=settings.merchant_id,
        priced=priced,
        reference=reference,
        hold_expires_at=_hold_expiry(school, order.service_date, order.period),
        now=now,
    )
    return _order_loaded(order.pk)


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
        _stock_release(order)
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
        _stock_release(order)
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


def _hold_expiry(school, day: date, period) -> datetime:
    """A pre-order's hold lasts until its period's cut-off and HOLD_GRACE more."""
    return calendar.cutoff_instant(school, day, period) + HOLD_GRACE


def _order_loaded(order_id: int) -> Order:
    """The order with what its receipt shows: lines, hold, student and period."""
    return Order.objects.select_related("student", "hold", "period").prefetch_related("lines").get(pk=order_id)


def _stock_release(order: Order) -> None:
    """Give the order's units back to the day's stock, under the stock rows' locks (after the order's).
    The stock rule is the database's (canteen/sql/orders.pg.sql), shared with placing and changing."""
    released = json.dumps([{"item_id": line.menu_item_id, "quantity": line.quantity} for line in order.lines.all()])
    with connection.cursor() as cursor:
        cursor.execute("SELECT canteen_stock_lock_check(%s, '[]'::jsonb, %s::jsonb)", [order.service_date, released])
        cursor.execute("SELECT canteen_stock_apply(%s, '[]'::jsonb, %s::jsonb)", [order.service_date, released])


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
