"""Reactions to events from other apps (connected in CanteenConfig.ready)."""

import structlog

from canteen.allergy_alerts import orders_recheck_allergens, orders_recheck_for_menu_item
from canteen.errors import OrderingClosed, OrderStateInvalid
from canteen.models import Order, OrderStatus
from canteen.orders import order_cancel
from guardians.models import AbsenceNote

log = structlog.get_logger("canteen.receivers")


def cancel_orders_for_absence(sender, *, absence_note_id: int, student_id: int, dates, **kwargs) -> None:
    """An absence reported before a day's cut-off cancels that day's order (the hold is voided).

    After the cut-off the food is being made: the order stays, and staff may refund it.
    """
    note = AbsenceNote.objects.select_related("reported_by__user").get(pk=absence_note_id)
    orders = Order.objects.filter(student_id=student_id, service_date__in=list(dates), status=OrderStatus.PLACED).select_related("school")
    for order in orders:
        try:
            order_cancel(order=order, by_user=note.reported_by.user, reason="absence")
        except (OrderingClosed, OrderStateInvalid):
            log.info("absence_after_cutoff_order_kept", order_id=order.pk, absence_note_id=absence_note_id)


def recheck_orders_for_food_profile(sender, *, instance, raw: bool = False, created: bool = False, **kwargs) -> None:
    """Any save or delete of a food profile re-checks the child's open orders (canteen/allergy_alerts.py).

    A signal rather than a call in the service so that every path is covered: the API,
    the admin, a shell or a data fix that saves the row. (A queryset `update()` skips
    signals; the prep list and labels re-check from the profile on every read regardless.)
    """
    if raw or (created and not instance.allergens):
        return  # a fixture load, or a new empty profile: no order can conflict with nothing
    orders_recheck_allergens(student_id=instance.student_id)


def recheck_orders_for_menu_item(sender, *, instance, raw: bool = False, created: bool = False, update_fields=None, **kwargs) -> None:
    """A saved menu item may list a new allergen: open orders containing it are re-checked."""
    if raw or created or (update_fields is not None and "allergens" not in update_fields):
        return
    orders_recheck_for_menu_item(menu_item_id=instance.pk)
