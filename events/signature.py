"""Hand-drawn signatures: the strokes a guardian drew, checked on the server and rendered to PNG by it.

The client sends vector strokes (lists of [x, y] points on a canvas of a given
size), never an image: the server decides what the signature looks like. The
strokes are part of the consent record; the PNG is rendered from them after the
sign-up has answered, into the record's documents (events/documents.py).
"""

import io

from django.conf import settings
from PIL import Image, ImageDraw

from events.errors import SignatureEmpty, SignatureInvalid, SignatureTooLarge

MIN_CANVAS = (50, 20)
MAX_CANVAS = (2000, 1000)
# The rendered image fits in this box; the strokes keep their proportions.
RENDER_BOX = (600, 200)
MIN_INK_EXTENT = 10  # px: a dot or a tap is not a signature


def signature_validate(raw: dict) -> dict:
    """Return the strokes ({"width", "height", "strokes": [[[x, y], ...], ...]}) with integer coordinates, or raise signature_empty / signature_too_large / signature_invalid."""
    width, height, strokes = raw.get("width"), raw.get("height"), raw.get("strokes")
    if type(width) is not int or type(height) is not int or not isinstance(strokes, list):
        raise SignatureInvalid("A signature is {width, height, strokes}.")
    if width > MAX_CANVAS[0] or height > MAX_CANVAS[1]:
        raise SignatureTooLarge(f"The drawing canvas is at most {MAX_CANVAS[0]}x{MAX_CANVAS[1]}.")
    if width < MIN_CANVAS[0] or height < MIN_CANVAS[1]:
        raise SignatureInvalid(f"The drawing canvas is at least {MIN_CANVAS[0]}x{MIN_CANVAS[1]}.")
    if len(strokes) > settings.EVENTS_SIGNATURE_MAX_STROKES:
        raise SignatureTooLarge(f"A signature has at most {settings.EVENTS_SIGNATURE_MAX_STROKES} strokes.")
    points = sum(len(stroke) if isinstance(stroke, list) else 0 for stroke in strokes)
    if points > settings.EVENTS_SIGNATURE_MAX_POINTS:
        raise SignatureTooLarge(f"A signature has at most {settings.EVENTS_SIGNATURE_MAX_POINTS} points.")
    cleaned = []
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise SignatureInvalid("Each stroke is a non-empty list of [x, y] points.")
        line = []
        for point in stroke:
            if not (isinstance(point, list) and len(point) == 2 and all(type(c) in (int, float) for c in point)):
                raise SignatureInvalid("Each point is [x, y].")
            x, y = round(point[0]), round(point[1])
            if not (0 <= x <= width and 0 <= y <= height):
                raise SignatureInvalid("A point lies outside the drawing canvas.")
            line.append([x, y])
        cleaned.append(line)
    all_points = [point for line in cleaned for point in line]
    if len(all_points) < 2:
        raise SignatureEmpty()
    xs, ys = [p[0] for p in all_points], [p[1] for p in all_points]
    if max(xs) - min(xs) + max(ys) - min(ys) < MIN_INK_EXTENT:
        raise SignatureEmpty("The signature is too small to be a signature; draw it again.")
    return {"width": width, "height": height, "strokes": cleaned}


def signature_render(strokes: dict) -> bytes:
    """Black ink on white, scaled into RENDER_BOX. The same strokes always give the same PNG bytes."""
    scale = min(RENDER_BOX[0] / strokes["width"], RENDER_BOX[1] / strokes["height"], 1.0)
    size = (max(1, round(strokes["width"] * scale)), max(1, round(strokes["height"] * scale)))
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    pen = max(2, round(4 * scale))
    for line in strokes["strokes"]:
        points = [(x * scale, y * scale) for x, y in line]
        if len(points) == 1:
            x, y = points[0]
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=0)
        else:
            draw.line(points, fill=0, width=pen, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
