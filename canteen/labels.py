"""Bag labels as a printable PDF (A4, 3 x 8 labels). No allergen is ever cut off.

Every line is wrapped to the label's width, allergens whole (an allergen's name is
never split across lines). The allergen lines shrink from 10 pt to a legible 7 pt
to fit one label; what still does not fit continues on the next label, marked
"CONTINUED", with the day, service, child, class and receipt number repeated so a
continuation can never be taken for another child's bag. A line flagged by an
allergy declared after ordering is printed white on black as DO NOT SERVE.
"""

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from canteen.allergens import allergen_label

# A4 sheet of 3 x 8 labels (close to the common 24-up label stock).
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 64 * mm, 33.9 * mm
MARGIN_X, MARGIN_Y = 7 * mm, 13 * mm
PAD = 2.5 * mm
TEXT_W = LABEL_W - 2 * PAD
FOOTER_H = 3 * mm  # the receipt number, bottom right
BODY_H = LABEL_H - 2 * PAD - FOOTER_H
ALLERGEN_SIZES = (10, 9, 8, 7)  # 7 pt is the smallest an allergy warning is printed
NAME_SIZES = (10, 8, 7)
SCHOOL_SIZES = (6, 5.5)
REGULAR, BOLD = "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class Line:
    text: str
    font: str
    size: float
    inverted: bool = False  # white on black
    right: str = ""  # drawn right-aligned on the same line

    @property
    def height(self) -> float:
        return self.size * 1.2


def labels_pdf(prep: dict) -> bytes:
    """The day's bag labels, one or more per order, in the prep list's order."""
    buffer = io.BytesIO()
    # Uncompressed: a few KB a page, and the text stays greppable for tests and audits.
    sheet = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    sheet.setTitle(f"Canteen labels {prep['service_date']}")
    page_h = A4[1]
    slot_index = 0
    for label in prep["labels"]:
        for lines in label_pages(label):
            slot = slot_index % (COLUMNS * ROWS)
            if slot_index and slot == 0:
                sheet.showPage()
            x, y = slot_origin(slot, page_h)
            _draw(sheet, lines, label["receipt_number"], x, y)
            slot_index += 1
    if not prep["labels"]:
        sheet.setFont(REGULAR, 12)
        period = f" ({prep['period']})" if prep.get("period") else ""
        sheet.drawString(MARGIN_X, page_h - MARGIN_Y - 12, f"No orders for {prep['service_date']}{period}.")
    sheet.save()
    return buffer.getvalue()


def slot_origin(slot: int, page_h: float = A4[1]) -> tuple[float, float]:
    """Bottom-left corner of a slot (0 is top left, row by row)."""
    return MARGIN_X + (slot % COLUMNS) * LABEL_W, page_h - MARGIN_Y - (slot // COLUMNS + 1) * LABEL_H


def label_pages(label: dict) -> list[list[Line]]:
    """The lines of each physical label for one order: one label when everything fits, else continuations."""
    for size in ALLERGEN_SIZES:
        lines = _header(label, first=True) + [line for block in _body(label, size) for line in block]
        if _height(lines) <= BODY_H:
            return [lines]
    blocks = _body(label, ALLERGEN_SIZES[-1])
    first_header = _header(label, first=True)
    warnings = blocks[: len(label.get("allergen_alerts", [])) + 1]  # the alerts, then the allergens
    if _height(first_header) + _marker(1, 2).height + sum(_height(block) for block in warnings) > BODY_H:
        # A name so long it would push the warnings off the first label: the first label gets the
        # short header, and the full name follows the warnings.
        first_header = _header(label, first=False)
        name = wrap(f"NAME: {label['student_name']}".split(), BOLD, 7, TEXT_W)
        blocks.insert(len(warnings), [Line(text, BOLD, 7) for text in name])
    parts: list[tuple[list[Line], list[Line]]] = []
    while blocks:
        header = _header(label, first=False) if parts else first_header
        room, part = BODY_H - _height(header) - _marker(1, 2).height, []
        while blocks and _height(part) + _height(blocks[0]) <= room:
            part += blocks.pop(0)
        if not part:  # a block taller than a whole label: split it by line
            block = blocks.pop(0)
            while len(block) > 1 and _height(part) + block[0].height <= room:
                part.append(block.pop(0))
            part = part or [block.pop(0)]
            if block:
                blocks.insert(0, block)
        parts.append((header, part))
    return [header + [_marker(number, len(parts))] + part for number, (header, part) in enumerate(parts, start=1)]


def _marker(number: int, count: int) -> Line:
    if number == 1:
        text = f"LABEL 1 OF {count}: CONTINUED ON NEXT"
    else:
        text = f"CONTINUED: LABEL {number} OF {count}" + (", MORE NEXT" if number < count else " (LAST)")
    return Line(text, BOLD, 7, inverted=True)


def _header(label: dict, *, first: bool) -> list[Line]:
    """Day and service with the class, the school, then the child's name in full (bold, wrapped).

    A continuation label repeats the name on one line (shortened if it must be): the
    receipt number at its foot says which order it continues.
    """
    when = f"{label['service_date']:%a %d %b %Y} · {label['service'].upper()}"
    roll_class = label["roll_class"] or "-"
    if stringWidth(when, BOLD, 7) + 3 * mm + stringWidth(roll_class, BOLD, 7) <= TEXT_W:
        lines = [Line(when, BOLD, 7, right=roll_class)]
    else:
        lines = [Line(when, BOLD, 7)] + [Line(text, BOLD, 7) for text in wrap(roll_class.split(), BOLD, 7, TEXT_W)]
    school = label["school_name"].split()
    school_size = next((size for size in SCHOOL_SIZES if len(wrap(school, REGULAR, size, TEXT_W)) == 1), SCHOOL_SIZES[-1])
    lines += [Line(text, REGULAR, school_size) for text in wrap(school, REGULAR, school_size, TEXT_W)]
    name = label["student_name"]
    if not first:
        return lines + [Line(_shortened(name, BOLD, 8, TEXT_W), BOLD, 8)]
    for size in NAME_SIZES:
        names = wrap(name.split(), BOLD, size, TEXT_W)
        if len(names) <= 2:
            break
    return lines + [Line(text, BOLD, size) for text in names]


def _shortened(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _body(label: dict, allergen_size: float) -> list[list[Line]]:
    """Blocks of lines kept together on one label where they fit: each alert, the allergens, the diet, each item."""
    blocks = []
    for alert in label.get("allergen_alerts", []):
        allergens = ", ".join(allergen_label(code) for code in alert["allergens"])
        text = f"DO NOT SERVE: {alert['name']} ({allergens})"
        blocks.append([Line(part, BOLD, 8, inverted=True) for part in wrap(text.split(), BOLD, 8, TEXT_W - 2)])
    names = [allergen_label(code) for code in label["allergens"]] or ["NONE DECLARED"]
    tokens = ["ALLERGIES:"] + [f"{name}," for name in names[:-1]] + names[-1:]
    blocks.append([Line(part, BOLD, allergen_size) for part in wrap(tokens, BOLD, allergen_size, TEXT_W)])
    if label.get("dietary_needs"):
        diet = "Diet: " + ", ".join(label["dietary_needs"])
        blocks.append([Line(part, REGULAR, 7) for part in wrap(diet.split(), REGULAR, 7, TEXT_W)])
    item_size = min(8, allergen_size)
    for item in label["items"]:
        font = BOLD if item.get("do_not_serve") else REGULAR
        text = ("DO NOT SERVE " if item.get("do_not_serve") else "") + f"{item['quantity']} x {item['name']}"
        blocks.append([Line(part, font, item_size) for part in wrap(text.split(), font, item_size, TEXT_W)])
    return blocks


def wrap(tokens: list[str], font: str, size: float, width: float) -> list[str]:
    """Greedy wrap that keeps each token whole, unless a token alone is wider than a line."""
    lines, current = [], ""
    for token in tokens:
        for piece in _split_wide(token, font, size, width):
            candidate = f"{current} {piece}" if current else piece
            if current and stringWidth(candidate, font, size) > width:
                lines.append(current)
                current = piece
            else:
                current = candidate
    return lines + [current] if current else lines or [""]


def _split_wide(token: str, font: str, size: float, width: float) -> list[str]:
    pieces, current = [], ""
    for char in token:
        if current and stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    return pieces + [current] if current else pieces


def _height(lines: list[Line]) -> float:
    return sum(line.height for line in lines)


def _draw(sheet, lines: list[Line], receipt_number: str, x: float, y: float) -> None:
    cursor = y + LABEL_H - PAD
    for line in lines:
        cursor -= line.height
        baseline = cursor + line.size * 0.25
        if line.inverted:
            sheet.setFillGray(0)
            sheet.rect(x + PAD - 1, cursor, TEXT_W + 2, line.height, stroke=0, fill=1)
            sheet.setFillGray(1)
        sheet.setFont(line.font, line.size)
        sheet.drawString(x + PAD, baseline, line.text)
        if line.right:
            sheet.drawRightString(x + LABEL_W - PAD, baseline, line.right)
        sheet.setFillGray(0)
    sheet.setFont(REGULAR, 6)
    sheet.drawRightString(x + LABEL_W - PAD, y + PAD, receipt_number)
