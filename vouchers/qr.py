"""QR images of a voucher payload, with the voucher number printed under the code.

Sized for a phone screen: about 720 px wide (a 360-point screen at 2x), quiet zone
included; the SVG carries the same drawing and scales. Error correction M: a phone
screen is clean, and a smaller code scans from further away.
"""

import io
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

BORDER = 4
TARGET_WIDTH = 720


def _matrix(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()  # includes the quiet zone


def png(*, payload: str, caption: str, subcaption: str = "") -> bytes:
    matrix = _matrix(payload)
    box = max(4, TARGET_WIDTH // len(matrix))
    size = box * len(matrix)
    text_height = box * 10 if subcaption else box * 7
    image = Image.new("L", (size, size + text_height), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([x * box, y * box, (x + 1) * box - 1, (y + 1) * box - 1], fill=0)
    number_font = ImageFont.load_default(size=box * 4)
    draw.text((size // 2, size + box), caption, fill=0, font=number_font, anchor="mt")
    if subcaption:
        draw.text((size // 2, size + box * 6), subcaption, fill=80, font=ImageFont.load_default(size=box * 2 + box // 2), anchor="mt")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg(*, payload: str, caption: str, subcaption: str = "") -> str:
    matrix = _matrix(payload)
    size = len(matrix)
    text_height = 10 if subcaption else 7
    path = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    pixels = 8
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size + text_height}" '
        f'width="{size * pixels}" height="{(size + text_height) * pixels}" shape-rendering="crispEdges">',
        f'<rect width="{size}" height="{size + text_height}" fill="#fff"/>',
        f'<path d="{path}" fill="#000"/>',
        f'<text x="{size / 2}" y="{size + 4}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="3.6" '
        f'text-anchor="middle" fill="#000">{escape(caption)}</text>',
    ]
    if subcaption:
        lines.append(
            f'<text x="{size / 2}" y="{size + 7.5}" font-family="system-ui, sans-serif" font-size="2.2" '
            f'text-anchor="middle" fill="#555">{escape(subcaption)}</text>'
        )
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
