"""The kitchen's view of a day: counts per item, per-class lists, and bag labels (JSON, CSV, PDF)."""

import csv
import io
from collections import defaultdict
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from canteen.models import FoodProfile, Order, OrderStatus

LIVE_STATUSES = (OrderStatus.PLACED, OrderStatus.FULFILLED, OrderStatus.NOT_COLLECTED)


def prep_list(*, school, service_date: date) -> dict:
    orders = list(
        Order.objects.filter(school=school, service_date=service_date, status__in=LIVE_STATUSES)
        .select_related("student")
        .prefetch_related("lines")
        .order_by("student__roll_class", "student__last_name", "student__first_name", "id")
    )
    profiles = {p.student_id: p for p in FoodProfile.objects.filter(student_id__in=[o.student_id for o in orders])}
    totals: dict[tuple, int] = defaultdict(int)
    classes: dict[str, list] = defaultdict(list)
    labels = []
    for order in orders:
        student = order.student
        items = [{"name": line.name, "quantity": line.quantity} for line in order.lines.all()]
        for line in order.lines.all():
            totals[(line.menu_item_id, line.name)] += line.quantity
        profile = profiles.get(student.pk)
        label = {
            "order_id": order.pk,
            "receipt_number": order.receipt_number,
            "student_name": f"{student.first_name} {student.last_name}",
            "roll_class": student.roll_class,
            "year_level": student.year_level,
            "items": items,
            "allergens": list(profile.allergens) if profile else [],
            "dietary_needs": list(profile.dietary_needs) if profile else [],
            "status": order.status,
            "late": order.late,
        }
        labels.append(label)
        classes[student.roll_class].append(label)
    return {
        "school_id": school.pk,
        "service_date": service_date,
        "order_count": len(orders),
        "items": [
            {"menu_item_id": item_id, "name": name, "quantity": quantity}
            for (item_id, name), quantity in sorted(totals.items(), key=lambda pair: pair[0][1])
        ],
        "classes": [{"roll_class": name, "orders": rows} for name, rows in sorted(classes.items())],
        "labels": labels,
    }


def prep_list_csv(prep: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["roll_class", "student", "items", "allergens", "dietary_needs", "receipt_number", "status"])
    for label in prep["labels"]:
        writer.writerow(
            [
                label["roll_class"],
                label["student_name"],
                "; ".join(f"{item['quantity']} x {item['name']}" for item in label["items"]),
                ", ".join(label["allergens"]).upper(),
                ", ".join(label["dietary_needs"]),
                label["receipt_number"],
                label["status"],
            ]
        )
    return out.getvalue()


# A4 sheet of 3 x 8 labels (close to the common 24-up label stock).
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 64 * mm, 33.9 * mm
MARGIN_X, MARGIN_Y = 7 * mm, 13 * mm


def labels_pdf(prep: dict) -> bytes:
    """Bag labels: child, class, items, and the child's allergens in bold so nobody misses them."""
    buffer = io.BytesIO()
    # Uncompressed: a few KB a page, and the text stays greppable for tests and audits.
    sheet = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    sheet.setTitle(f"Canteen labels {prep['service_date']}")
    page_h = A4[1]
    for index, label in enumerate(prep["labels"]):
        slot = index % (COLUMNS * ROWS)
        if index and slot == 0:
            sheet.showPage()
        x = MARGIN_X + (slot % COLUMNS) * LABEL_W
        y = page_h - MARGIN_Y - (slot // COLUMNS + 1) * LABEL_H
        _draw_label(sheet, label, x, y)
    if not prep["labels"]:
        sheet.setFont("Helvetica", 12)
        sheet.drawString(MARGIN_X, page_h - MARGIN_Y - 12, f"No orders for {prep['service_date']}.")
    sheet.save()
    return buffer.getvalue()


def _draw_label(sheet, label: dict, x: float, y: float) -> None:
    top = y + LABEL_H - 5 * mm
    sheet.setFont("Helvetica-Bold", 11)
    sheet.drawString(x + 3 * mm, top, _fit(label["student_name"], 28))
    sheet.setFont("Helvetica", 9)
    sheet.drawRightString(x + LABEL_W - 3 * mm, top, f"{label['roll_class']}")
    line_y = top - 4.5 * mm
    for item in label["items"][:3]:
        sheet.drawString(x + 3 * mm, line_y, _fit(f"{item['quantity']} x {item['name']}", 36))
        line_y -= 4 * mm
    if len(label["items"]) > 3:
        sheet.drawString(x + 3 * mm, line_y, f"+ {len(label['items']) - 3} more")
        line_y -= 4 * mm
    if label["allergens"]:
        sheet.setFont("Helvetica-Bold", 10)
        sheet.drawString(x + 3 * mm, y + 3 * mm, _fit("ALLERGIES: " + ", ".join(label["allergens"]).upper(), 34))
    sheet.setFont("Helvetica", 6)
    sheet.drawRightString(x + LABEL_W - 3 * mm, y + 3 * mm, label["receipt_number"])


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
