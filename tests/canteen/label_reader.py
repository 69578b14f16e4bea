"""Reads a bag-label PDF back the way a person would: which text is on which label, and does it fit."""

import io
import re
from dataclasses import dataclass, field

from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from canteen.labels import COLUMNS, LABEL_H, LABEL_W, PAD, ROWS, slot_origin


@dataclass
class Fragment:
    text: str
    x: float
    y: float
    font: str
    size: float

    @property
    def right(self) -> float:
        return self.x + stringWidth(self.text, self.font, self.size)


@dataclass
class PrintedLabel:
    page: int
    slot: int
    fragments: list[Fragment] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [f.text for f in sorted(self.fragments, key=lambda f: (-f.y, f.x))]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def receipt_number(self) -> str:
        return next(line for line in self.lines if re.fullmatch(r"C\d+-\d{8}-\d{6}", line))


def read_labels(pdf: bytes) -> list[PrintedLabel]:
    """Every label with text, in print order; asserts each fragment lies inside its label's printable area."""
    labels: dict[tuple[int, int], PrintedLabel] = {}
    for page_number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        page_h = float(page.mediabox.height)
        found: list[Fragment] = []

        def visit(text, cm, tm, font_dict, font_size, found=found):
            if text.strip():
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                found.append(Fragment(text.strip(), x, y, str(font_dict["/BaseFont"]).lstrip("/"), font_size))

        page.extract_text(visitor_text=visit)
        for fragment in found:
            slot = _slot_of(fragment, page_h)
            x0, y0 = slot_origin(slot, page_h)
            assert x0 + PAD - 0.5 <= fragment.x and fragment.right <= x0 + LABEL_W - PAD + 0.5, f"{fragment} runs out of its label"
            assert y0 < fragment.y < y0 + LABEL_H, f"{fragment} runs out of its label"
            labels.setdefault((page_number, slot), PrintedLabel(page_number, slot)).fragments.append(fragment)
    return [labels[key] for key in sorted(labels)]


def _slot_of(fragment: Fragment, page_h: float) -> int:
    for slot in range(COLUMNS * ROWS):
        x0, y0 = slot_origin(slot, page_h)
        if x0 <= fragment.x < x0 + LABEL_W and y0 <= fragment.y < y0 + LABEL_H:
            return slot
    raise AssertionError(f"{fragment} is on no label")


def labels_of(printed: list[PrintedLabel], receipt_number: str) -> list[PrintedLabel]:
    return [label for label in printed if label.receipt_number == receipt_number]


def printed_allergens(labels: list[PrintedLabel]) -> list[str]:
    """The allergens after `ALLERGIES:`, as printed across however many lines (and labels) they take."""
    lines = [line for label in labels for line in label.lines]
    start = next(i for i, line in enumerate(lines) if line.startswith("ALLERGIES:"))
    text = lines[start].removeprefix("ALLERGIES:").strip()
    for line in lines[start + 1 :]:
        if not text.endswith(","):
            break
        text += " " + line
    return [name.strip() for name in text.split(",")]
