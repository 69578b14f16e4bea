"""A merchant's remittance advice for one settlement (PDF): what was paid, for which redemptions.

Read from the stored statement, so it always sums to the amount paid. Deterministic like the
consent PDF (events/pdf.py): reportlab's invariant mode, built-in fonts, and the document date
taken from the settlement, so the same settlement always yields the same bytes.
"""

import io
from datetime import UTC
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.money import format_dollars
from vouchers.models import Settlement
from vouchers.settlement_statement import statement_lines

STYLES = getSampleStyleSheet()
LINE_LABELS = {"redemption": "Redeemed", "redemption_voided": "Redeemed, voided before payment", "void": "Voided after an earlier payment"}


def _p(text, style: str = "BodyText") -> Paragraph:
    return Paragraph(escape(str(text)), STYLES[style])


def _money(cents: int, currency: str) -> str:
    return f"{format_dollars(cents)} {currency}"


def remittance_pdf(settlement: Settlement) -> bytes:
    """One page (or more for a long statement): the payer, the payee, the period, the lines, the totals."""
    program, merchant = settlement.program, settlement.merchant
    zone = ZoneInfo(settlement.run.time_zone if settlement.run_id else program.time_zone if program else "UTC")
    summary = [
        ["Remittance", f"#{settlement.pk}"],
        ["Merchant", merchant.name],
        ["Program", program.name if program else "(all programs)"],
        ["Business day", settlement.business_date.isoformat()],
        ["Redemptions up to", settlement.cutoff_at.astimezone(zone).isoformat(timespec="minutes") + f" ({zone.key})"],
        ["Status", settlement.get_status_display()],
        ["Transfer", settlement.transfer_id or "(not yet transferred)"],
        ["Ledger transaction", str(settlement.transaction_id)],
    ]
    head = Table([[_p(label), _p(value)] for label, value in summary], colWidths=[45 * mm, 125 * mm])
    head.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))

    rows = [["Redemption", "When", "Line", "Category", "Vouchers", "Amount"]]
    for line in statement_lines(settlement):
        rows.append(
            [
                line["redemption_id"],
                line["redeemed_at"],
                LINE_LABELS.get(line["line"], line["line"]),
                line["category"],
                line["vouchers"],
                _money(int(line["amount_cents"]), line["currency"]),
            ]
        )
    lines = Table([[_p(cell) for cell in row] for row in rows], repeatRows=1, colWidths=[20 * mm, 34 * mm, 40 * mm, 20 * mm, 32 * mm, 28 * mm])
    lines.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    totals = Table(
        [
            [_p("Redeemed"), _p(_money(settlement.redeemed_amount, settlement.currency))],
            [_p("Less voids of earlier payments"), _p(_money(-settlement.voided_amount, settlement.currency))],
            [_p("Paid"), _p(_money(settlement.amount, settlement.currency))],
        ],
        colWidths=[130 * mm, 40 * mm],
    )
    totals.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")]))
    story = [
        _p("Voucher remittance advice", "Title"),
        head,
        Spacer(1, 6 * mm),
        lines,
        Spacer(1, 6 * mm),
        totals,
    ]
    return _build(story, title=f"Remittance {settlement.pk}", instant=settlement.created_at)


def _build(story, *, title: str, instant) -> bytes:
    out = io.BytesIO()
    stamp_text = instant.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    def stamp(canvas, doc):
        canvas.setDateFormatter(lambda *_: stamp_text)

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        title=title,
        author="Tuckbox",
        creator="Tuckbox",
        subject=title,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    doc.build(story, onFirstPage=stamp, onLaterPages=stamp)
    return out.getvalue()
