"""Uptake numbers for administrators: issued, redeemed, value and redemption rate, grouped.

A voucher counts as redeemed once any of it has been spent (voided redemptions do
not count); value redeemed is what merchants were reimbursed. Cancelled vouchers are
left out. By category, a voucher's issue counts under each category it may be spent
in, and redemptions under the category the merchant booked them in.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet, Sum

from core.money import format_dollars
from vouchers.models import IssueWindow, Program, RedemptionLine, Voucher, VoucherState

GROUPINGS = ("program", "school", "postcode", "category")
CSV_COLUMNS = [
    "group_by",
    "key",
    "label",
    "vouchers_issued",
    "value_issued_cents",
    "vouchers_redeemed",
    "value_redeemed_cents",
    "value_redeemed",
    "value_forfeited_cents",
    "redemption_rate",
]


@dataclass
class UptakeRow:
    key: str
    label: str
    vouchers_issued: int = 0
    value_issued: int = 0
    vouchers_redeemed: int = 0
    value_redeemed: int = 0
    value_forfeited: int = 0

    @property
    def redemption_rate(self) -> float:
        return round(self.vouchers_redeemed / self.vouchers_issued, 4) if self.vouchers_issued else 0.0


@dataclass
class Uptake:
    group_by: str
    rows: list[UptakeRow]
    totals: UptakeRow


def _issued(programs: QuerySet[Program], issued_from: date | None, issued_to: date | None) -> QuerySet[Voucher]:
    vouchers = Voucher.objects.filter(program__in=programs).exclude(state=VoucherState.CANCELLED)
    if issued_from:
        vouchers = vouchers.filter(issued_on__gte=issued_from)
    if issued_to:
        vouchers = vouchers.filter(issued_on__lte=issued_to)
    return vouchers


_MEASURES = {
    "vouchers_issued": Count("pk"),
    "value_issued": Sum("face_value"),
    # Spent at least in part: less is left than the value not forfeited.
    "vouchers_redeemed": Count("pk", filter=Q(remaining_value__lt=F("face_value") - F("forfeited_value"))),
    "value_redeemed": Sum(F("face_value") - F("remaining_value") - F("forfeited_value")),
    "value_forfeited": Sum("forfeited_value"),
}
_GROUP_FIELDS = {
    "program": ("program_id", "program__name"),
    "school": ("school_id", "school__name"),
    "postcode": ("postcode", "postcode"),
}


def uptake(
    *, programs: QuerySet[Program], group_by: str, issued_from: date | None = None, issued_to: date | None = None
) -> Uptake:
    vouchers = _issued(programs, issued_from, issued_to)
    if group_by == "category":
        rows = _by_category(vouchers)
    else:
        key_field, label_field = _GROUP_FIELDS[group_by]
        rows = []
        for values in vouchers.values(key_field, label_field).annotate(**_MEASURES).order_by(key_field):
            key = values[key_field]
            label = values[label_field] or ("No school (adult)" if group_by == "school" else "Unknown")
            rows.append(UptakeRow(key="" if key is None else str(key), label=label, **{m: values[m] or 0 for m in _MEASURES}))
    totals_values = vouchers.aggregate(**_MEASURES)
    totals = UptakeRow(key="", label="All", **{m: totals_values[m] or 0 for m in _MEASURES})
    return Uptake(group_by=group_by, rows=rows, totals=totals)


def _by_category(vouchers: QuerySet[Voucher]) -> list[UptakeRow]:
    rows: dict[str, UptakeRow] = {}
    issued = list(vouchers.values("issue_window_id").annotate(count=Count("pk"), value=Sum("face_value")))
    windows = IssueWindow.objects.select_related("program").in_bulk([values["issue_window_id"] for values in issued])
    for values in issued:
        for category in windows[values["issue_window_id"]].effective_categories():
            row = rows.setdefault(category, UptakeRow(key=category, label=category.replace("_", " ").capitalize()))
            row.vouchers_issued += values["count"]
            row.value_issued += values["value"] or 0
    lines = RedemptionLine.objects.filter(voucher__in=vouchers.values("pk"), redemption__voided_at__isnull=True)
    for values in lines.values("redemption__category").annotate(
        vouchers=Count("voucher", distinct=True), value=Sum("amount"), forfeited=Sum("forfeited_amount")
    ):
        category = values["redemption__category"]
        row = rows.setdefault(category, UptakeRow(key=category, label=category.replace("_", " ").capitalize()))
        row.vouchers_redeemed += values["vouchers"]
        row.value_redeemed += values["value"] or 0
        row.value_forfeited += values["forfeited"] or 0
    return [rows[key] for key in sorted(rows)]


def uptake_csv(report: Uptake) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in [*report.rows, report.totals]:
        writer.writerow(
            [
                report.group_by,
                row.key,
                "'" + row.label if row.label.startswith(("=", "+", "-", "@")) else row.label,
                row.vouchers_issued,
                row.value_issued,
                row.vouchers_redeemed,
                row.value_redeemed,
                format_dollars(row.value_redeemed),
                row.value_forfeited,
                f"{row.redemption_rate:.4f}",
            ]
        )
    return buffer.getvalue()
