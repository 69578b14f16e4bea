"""A leaver's canteen orders and food profile (guardians.signals.student_left and student_deidentify).

Orders from the leaving day on are cancelled through canteen/orders.py, never by editing rows: before
a day's cut-off `order_cancel` voids the hold; after it (or for a late order, already charged)
`order_refund` gives the money back to the wallet that paid. Both are idempotent, so the sweep may
run this again. The staff member who marked the leaver is the one recorded as cancelling.
"""

import structlog

from canteen.errors import OrderingClosed, OrderStateInvalid
from canteen.models import FoodProfile, Order, OrderStatus
from canteen.orders import order_cancel, order_refund
from core import clock
from guardians.models import User

log = structlog.get_logger("canteen.leavers")

OPEN = (OrderStatus.PLACED,)


def leaver_orders_cancel(*, leaver_id: int, student_id: int, leaving_on, by_user_id: int, **kwargs) -> list[int]:
    """Cancel or refund every placed order of the student for the leaving day or later. Returns their ids."""
    by_user = User.objects.get(pk=by_user_id)
    orders = Order.objects.filter(student_id=student_id, service_date__gte=leaving_on, status__in=OPEN).select_related("school", "placed_by").order_by("pk")
    ended = []
    for order in orders:
        try:
            order_cancel(order=order, by_user=by_user, reason="leaver")
        except (OrderingClosed, OrderStateInvalid):  # past the cut-off, or charged at once: a refund
            order_refund(order=order, staff_user=by_user, reference=f"leaver_order_refund:{leaver_id}:{order.pk}")
        ended.append(order.pk)
    if ended:
        log.info("leaver_orders_ended", leaver_id=leaver_id, order_ids=ended)
    return ended


def leaver_food_profile_deidentify(*, student_id: int, **kwargs) -> None:
    """Blank the child's allergens, dietary needs, bans and notes, and the free-text notes on their orders.

    A queryset update: the profile-saved receiver re-checks open orders, and a leaver has none."""
    FoodProfile.objects.filter(student_id=student_id).update(
        allergens=[], dietary_needs=[], banned_item_ids=[], banned_categories=[], notes="", updated_at=clock.now(), updated_by=None
    )
    Order.objects.filter(student_id=student_id).exclude(note="").update(note="")
