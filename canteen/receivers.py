"""Reactions to events from other apps (connected in CanteenConfig.ready)."""

import structlog

from canteen.errors import OrderingClosed, OrderStateInvalid
from canteen.models import Order, OrderStatus
from canteen.orders import order_cancel

log = structlog.get_logger("canteen.receivers")


def cancel_orders_for_absence(sender, *, student_id: int, dates, reported_by=None, **kwargs) -> None:
    """An absence reported before a day's cut-off cancels that day's order (the hold is voided)."""
    orders = Order.objects.filter(student_id=student_id, service_date__in=list(dates), status=OrderStatus.PLACED).select_related(
        "school", "placed_by__user"
    )
    for order in orders:
        try:
            order_cancel(order=order, by_user=reported_by or order.placed_by.user, reason="absence")
        except (OrderingClosed, OrderStateInvalid):
            log.info("absence_after_cutoff_order_kept", order_id=order.pk)
