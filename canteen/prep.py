"""The kitchen's view of a day, or of one service period of it: counts per period and item, per-class
lists, and bag labels (JSON, CSV; PDF in labels.py), each label naming its period.

Allergens and allergy alerts are read from the child's food profile as it is when
the list is asked for, never from a copy: a profile changed a minute ago is on the
next print.
"""

import csv
import io
from collections import defaultdict
from datetime import date

from canteen.allergens import allergen_label
from canteen.allergy_alerts import alert_text, line_conflicts
from canteen.models import FoodProfile, Order, OrderStatus, ServicePeriod

LIVE_STATUSES = (OrderStatus.PLACED, OrderStatus.FULFILLED, OrderStatus.NOT_COLLECTED)


def order_service_name(order: Order) -> str:
    """The meal the order is for, printed on its label: its service period's name (Recess, Lunch)."""
    return order.period.name


def prep_list(*, school, service_date: date, period: ServicePeriod | None = None) -> dict:
    """The day's live orders, of one period or (none given) of every period in the day's order."""
    live = Order.objects.filter(school=school, service_date=service_date, status__in=LIVE_STATUSES)
    if period is not None:
        live = live.filter(period=period)
    orders = list(
        live.select_related("student", "period")
        .prefetch_related("lines__menu_item")
        .order_by("period__cutoff", "period_id", "student__roll_class", "student__last_name", "student__first_name", "id")
    )
    profiles = {p.student_id: p for p in FoodProfile.objects.filter(student_id__in=[o.student_id for o in orders])}
    totals: dict[tuple, int] = defaultdict(int)
    classes: dict[str, list] = defaultdict(list)
    labels = []
    for order in orders:
        student = order.student
        profile = profiles.get(student.pk)
        declared = list(profile.allergens) if profile else []
        alerts = line_conflicts(order.lines.all(), declared)
        flagged = {alert["menu_item_id"] for alert in alerts}
        items = [
            {"name": line.name, "quantity": line.quantity, "do_not_serve": line.menu_item_id in flagged} for line in order.lines.all()
        ]
        for line in order.lines.all():
            totals[(order.period.cutoff, order.period_id, order.period.name, line.name, line.menu_item_id)] += line.quantity
        label = {
            "order_id": order.pk,
            "receipt_number": order.receipt_number,
            "student_name": f"{student.first_name} {student.last_name}",
            "roll_class": student.roll_class,
            "year_level": student.year_level,
            "school_name": school.name,
            "service_date": service_date,
            "service": order_service_name(order),
            "period_id": order.period_id,
            "items": items,
            "allergens": declared,
            "allergen_alerts": alerts,
            "dietary_needs": list(profile.dietary_needs) if profile else [],
            "status": order.status,
            "late": order.late,
        }
        labels.append(label)
        classes[student.roll_class].append(label)
    return {
        "school_id": school.pk,
        "service_date": service_date,
        "period_id": period.pk if period is not None else None,
        "period": period.name if period is not None else None,
        "order_count": len(orders),
        "alerts": [label for label in labels if label["allergen_alerts"]],
        "items": [
            {"menu_item_id": item_id, "name": name, "quantity": quantity, "period_id": period_id, "period": period_name}
            for (_, period_id, period_name, name, item_id), quantity in sorted(totals.items())
        ],
        "classes": [{"roll_class": name, "orders": rows} for name, rows in sorted(classes.items())],
        "labels": labels,
    }


def prep_list_csv(prep: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["roll_class", "student", "items", "allergens", "allergy_alert", "dietary_needs", "receipt_number", "status", "service"])
    for label in prep["labels"]:
        writer.writerow(
            [
                label["roll_class"],
                label["student_name"],
                "; ".join(f"{item['quantity']} x {item['name']}" for item in label["items"]),
                ", ".join(allergen_label(code) for code in label["allergens"]),
                f"DO NOT SERVE: {alert_text(label['allergen_alerts'])}" if label["allergen_alerts"] else "",
                ", ".join(label["dietary_needs"]),
                label["receipt_number"],
                label["status"],
                label["service"],
            ]
        )
    return out.getvalue()
