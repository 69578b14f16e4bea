"""What the canteen tells webhook subscribers (the school's): ids, dates and integer cents."""

from canteen.models import CutoffRun, Order
from guardians.webhooks import webhook_event_publish
from wallet.models.ledger import CURRENCY


def order_placed_publish(*, order: Order) -> None:
    """Inside the transaction that holds (or, late, charges) the order's price."""
    webhook_event_publish(
        event_type="canteen.order_placed",
        school_id=order.school_id,
        data={
            "order_id": order.pk,
            "student_id": order.student_id,
            "service_date": order.service_date,
            "period_id": order.period_id,
            "total": order.total,
            "currency": CURRENCY,
            "late": order.late,
            "lines": [
                {"item_id": line.menu_item_id, "quantity": line.quantity, "unit_price": line.unit_price}
                for line in sorted(order.lines.all(), key=lambda line: line.pk)
            ],
        },
    )


def orders_cut_off_publish(*, run: CutoffRun) -> None:
    webhook_event_publish(
        event_type="canteen.orders_cut_off",
        school_id=run.school_id,
        data={
            "service_date": run.service_date,
            "period_id": run.period_id,
            "orders_posted": run.orders_posted,
            "cutoff_run_id": run.pk,
            "finished_at": run.finished_at,
        },
    )
