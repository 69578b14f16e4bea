"""An allergy declared after an order was placed: the child's open orders are re-checked and flagged.

The same happens when a menu item's allergens change after it was ordered.

Placing an order refuses a declared allergen, but a profile can change after that.
Every change of a food profile (API, admin, shell: anything that saves or deletes
the row, see `canteen/receivers.py`) re-checks the child's open orders against the
profile as it now is, in the same transaction:

- a line carrying a declared allergen flags the order (`Order.allergen_alerts`);
  the order's API output, the prep list and the bag label show it;
- the guardians and the school's canteen staff are notified when a flag is raised
  or grows (not again for the same allergens, and not when a flag is cleared);
- removing the allergy clears the flag.

Notices carry no dedupe key on purpose: the re-check itself sends once per change,
and a flag removed and later raised again is news again.

The kitchen does not serve a flagged line: the label and prep list print it as
DO NOT SERVE. The order itself stays (its money and the rest of the bag are the
guardian's to change or cancel before the cut-off, and staff's to refund after).
"""

from datetime import date, timedelta

from django.db import transaction

from canteen.allergens import allergen_label
from canteen.models import FoodProfile, Order, OrderStatus
from core import clock, school_time
from core.locks import lock_objects, lock_one_or_none
from core.notifications import notify
from guardians.models import GuardianLink, StaffRole, Student


def line_conflicts(lines, declared: list[str]) -> list[dict]:
    """The lines of an order that carry any of the `declared` allergens, with those allergens.

    A line carries what it was bought with and what its menu item lists now: the kitchen
    cooks today's recipe, so an allergen added to the item after ordering counts too.
    """
    declared_set = set(declared)
    conflicts = []
    for line in lines:
        found = declared_set & (set(line.allergens) | set(line.menu_item.allergens))
        if found:
            conflicts.append({"menu_item_id": line.menu_item_id, "name": line.name, "allergens": sorted(found)})
    return conflicts


def orders_recheck_for_menu_item(*, menu_item_id: int) -> None:
    """An item's allergens changed: re-check every child with an open order containing it."""
    since = clock.now().date() - timedelta(days=1)  # a day's margin for any school's zone; the re-check judges locally
    student_ids = (
        Order.objects.filter(status=OrderStatus.PLACED, service_date__gte=since, lines__menu_item_id=menu_item_id)
        .values_list("student_id", flat=True)
        .distinct()
    )
    for student_id in sorted(student_ids):
        orders_recheck_allergens(student_id=student_id)


def orders_recheck_allergens(*, student_id: int) -> list[Order]:
    """Flag or clear every open order of the child (placed, for today or later in the school's calendar).

    Locks the child's profile, then the open orders in primary-key order (the lock order of
    every order writer), so a concurrent placement or change of an order sees the flag. Returns the orders newly
    flagged or with new allergens. Safe to run twice: an unchanged flag is left alone.
    """
    student = Student.objects.select_related("school").filter(pk=student_id).first()
    if student is None:
        return []
    with transaction.atomic():
        # The profile first, as placing and changing an order lock it (canteen/sql/orders.pg.sql).
        declared = lock_one_or_none(FoodProfile.objects.filter(student_id=student_id).values_list("allergens", flat=True)) or []
        today = school_time.school_today(student.school)
        open_orders = lock_objects(
            Order.objects.filter(student_id=student_id, status=OrderStatus.PLACED, service_date__gte=today).prefetch_related("lines__menu_item")
        )
        raised = []
        now = clock.now()
        for order in open_orders:
            alerts = line_conflicts(order.lines.all(), declared)
            if alerts == order.allergen_alerts:
                continue
            if _allergens(alerts) - _allergens(order.allergen_alerts):
                raised.append(order)
            order.allergen_alerts = alerts
            order.updated_at = now
            order.save(update_fields=["allergen_alerts", "updated_at"])
        if raised:
            _notify(student, raised)
    return raised


def _allergens(alerts: list[dict]) -> set[tuple[int, str]]:
    return {(alert["menu_item_id"], allergen) for alert in alerts for allergen in alert["allergens"]}


def alert_text(alerts: list[dict]) -> str:
    """`Satay skewer (PEANUT); Chicken wrap (EGG, WHEAT / GLUTEN)`: what must not be served."""
    return "; ".join(f"{alert['name']} ({', '.join(allergen_label(a) for a in alert['allergens'])})" for alert in alerts)


def _notify(student: Student, orders: list[Order]) -> None:
    school = student.school
    name = f"{student.first_name} {student.last_name}"
    data = {
        "student_id": student.pk,
        "orders": [{"order_id": o.pk, "service_date": o.service_date.isoformat(), "alerts": o.allergen_alerts} for o in orders],
    }
    days = "; ".join(f"{_day(o.service_date)}: {alert_text(o.allergen_alerts)}" for o in orders)
    guardians = [
        link.guardian.user
        for link in GuardianLink.objects.filter(student=student, revoked_at__isnull=True).select_related("guardian__user")
    ]
    notify(
        users=guardians,
        kind="canteen_allergy_alert",
        title=f"Allergy alert: {student.first_name}'s canteen order contains a declared allergen",
        body=f"{days}. The kitchen will not serve these items. Change or cancel the order before the cut-off, "
        "or ask the school for a refund after it.",
        data=data,
    )
    kitchen = [member.user for member in school.staff.select_related("user") if member.has_role(StaffRole.CANTEEN, StaffRole.ADMIN)]
    receipts = ", ".join(o.receipt_number for o in orders)
    notify(
        users=kitchen,
        kind="canteen_allergy_alert",
        title=f"Allergy alert: {name} ({student.roll_class}) — DO NOT SERVE",
        body=f"An allergen declared for the child is in an order placed before it was declared (or before the item "
        f"listed it). Do not serve: {days}. Orders {receipts}; "
        "the prep list and labels show the alert.",
        data=data,
    )


def _day(day: date) -> str:
    return f"{day:%a %d %b}"
