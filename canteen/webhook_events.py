"""What the canteen tells webhook subscribers (the school's): ids, dates and integer cents.

`canteen.order_placed` is recorded by the placement's own database function (canteen/sql/orders.pg.sql),
in the transaction that holds the order's price.
"""

from canteen.models import CutoffRun
from core.webhooks import webhook_event_publish
from core.webhooks.event_types import SCHOOL, EventType, register

register(
    EventType(
        "canteen.order_placed",
        SCHOOL,
        "A guardian pre-ordered canteen food for a child (the price is held until the cut-off; a late order is "
        "charged at once).",
        {"order_id": 88, "student_id": 7, "service_date": "2026-12-02", "total": 950, "currency": "AUD",
         "late": False, "lines": [{"item_id": 5, "quantity": 1, "unit_price": 650}]},
    ),
    EventType(
        "canteen.orders_cut_off",
        SCHOOL,
        "A service day's orders closed at the school's cut-off and were charged; the prep list is final.",
        {"service_date": "2026-12-02", "orders_posted": 42, "cutoff_run_id": 17, "finished_at": "2026-12-01T21:31:00Z"},
    ),
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
