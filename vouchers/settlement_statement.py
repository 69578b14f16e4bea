"""A settlement's statement: one CSV line per redemption paid, voided or taken back.

Fixed when the settlement is made and stored with it; the run's CSV and the merchant's PDF
remittance are read from it, so all three always agree with the amount paid.
"""

import csv
import io
from zoneinfo import ZoneInfo

from core.money import format_dollars
from vouchers import numbers
from vouchers.models import Redemption, RedemptionLine, Settlement

STATEMENT_COLUMNS = [
    "settlement_id",
    "business_date",
    "line",
    "redemption_id",
    "redeemed_at",
    "voided_at",
    "program",
    "category",
    "vouchers",
    "amount_cents",
    "amount",
    "currency",
]
# A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def statement_csv(settlement: Settlement, redeemed: list[Redemption], clawed_back: list[Redemption], *, zone: ZoneInfo) -> str:
    """Amounts sum to the payout; times are in `zone` (the program's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    lines = [("redemption" if r.voided_at is None else "redemption_voided", r, r.amount if r.voided_at is None else 0) for r in redeemed]
    lines += [("void", r, -r.amount) for r in clawed_back]
    vouchers_of = _voucher_numbers([r.pk for _, r, _ in lines])
    for kind, redemption, amount in lines:
        writer.writerow(
            [
                settlement.pk,
                settlement.business_date.isoformat(),
                kind,
                redemption.pk,
                redemption.created_at.astimezone(zone).isoformat(timespec="seconds"),
                redemption.voided_at.astimezone(zone).isoformat(timespec="seconds") if redemption.voided_at else "",
                spreadsheet_text(redemption.program.name),
                redemption.category,
                " ".join(vouchers_of.get(redemption.pk, [])),
                amount,
                format_dollars(amount),
                settlement.currency,
            ]
        )
    return buffer.getvalue()


def statement_lines(settlement: Settlement) -> list[dict]:
    """The stored statement's lines, as dicts keyed by STATEMENT_COLUMNS."""
    return list(csv.DictReader(io.StringIO(settlement.statement_csv)))


def _voucher_numbers(redemption_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for redemption_id, number in (
        RedemptionLine.objects.filter(redemption_id__in=redemption_ids).order_by("pk").values_list("redemption_id", "voucher__number")
    ):
        found.setdefault(redemption_id, []).append(numbers.masked(number))
    return found
