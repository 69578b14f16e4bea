"""PDFs: the signed consent (reproducible byte for byte) and the staff roster.

Determinism: reportlab's invariant mode (no random document id, no wall-clock
timestamps), the creation date taken from the record (`signed_at`), built-in
fonts only (nothing embedded), and the signature image it is given. The consent's PDF is rendered
once and stored (events/documents.py): what is downloaded is those bytes, not a new rendering.
"""

import io
from datetime import UTC
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.money import format_dollars
from events.canonical import sha256_hex
from events.models import ConsentRecord
from events.selectors import answers_for_display

STYLES = getSampleStyleSheet()
STYLES.add(ParagraphStyle("Evidence", parent=STYLES["BodyText"], fontName="Courier", fontSize=7.5, leading=9))


def _p(text: str, style: str = "BodyText") -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), STYLES[style])


def _fixed_date(instant):
    """reportlab asks for the document date; answer with the record's own instant, in UTC."""
    stamp = instant.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
    return lambda *_: stamp


def _build(story, *, title: str, instant, pagesize=A4) -> bytes:
    out = io.BytesIO()
    fixed = _fixed_date(instant)

    def stamp(canvas, doc):
        canvas.setDateFormatter(fixed)

    doc = SimpleDocTemplate(
        out,
        pagesize=pagesize,
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


def _answer_text(row: dict) -> str:
    if row["withheld"]:
        return "(medical answer withheld)"
    value = row["answer"]
    if value is None:
        return "(no answer)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def consent_pdf(record: ConsentRecord, *, signature_png: bytes) -> bytes:
    """The exact form the guardian read, their answers, the signature (`signature_png`, the image rendered
    from its strokes), and the evidence of who, when and where."""
    event, form = record.event, record.form_version.content
    zone = ZoneInfo(event.school.time_zone)
    local = record.signed_at.astimezone(zone)
    story = [
        _p(f"{event.school.name}: consent for {event.title}", "Title"),
        _p(f"Student: {record.student.first_name} {record.student.last_name} (Year {record.student.year_level}, {record.student.roll_class})"),
        _p(f"Event: {event.get_kind_display()} at {event.location}, {event.starts_at.astimezone(zone):%d %b %Y %H:%M} to {event.ends_at.astimezone(zone):%d %b %Y %H:%M} ({event.school.time_zone})"),
        Spacer(1, 4 * mm),
        _p(f"Consent form, version {record.form_version.number}", "Heading2"),
        _p(form["body"]),
        Spacer(1, 3 * mm),
        _p("Answers", "Heading2"),
    ]
    answers = answers_for_display(record, include_medical=True)
    if answers:
        table = Table([[_p(row["label"]), _p(_answer_text(row))] for row in answers], colWidths=[75 * mm, 95 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    else:
        story.append(_p("This form asks no questions."))
    story += [
        Spacer(1, 3 * mm),
        _p("Statement", "Heading2"),
        _p(f"[x] {record.statement}"),
        _p(f"Typed name: {record.typed_name}"),
        Spacer(1, 2 * mm),
        _p("Signature", "Heading2"),
    ]
    if record.deidentified_at is not None:  # a leaver's, past retention (guardians/retention.py)
        story.append(_p(
            f"De-identified on {record.deidentified_at.astimezone(UTC):%Y-%m-%d} after the retention period: the answers, "
            "the signature, the typed name and where it was signed from were removed. The hashes below are those of the original."
        ))
    else:
        width, height = ImageReader(io.BytesIO(signature_png)).getSize()
        scale = min(120 * mm / width, 40 * mm / height)
        story.append(Image(io.BytesIO(signature_png), width=width * scale, height=height * scale, hAlign="LEFT"))
    link = record.link
    evidence = [
        ("Signed by", f"{record.guardian.user.full_name} <{record.guardian.user.email}>"),
        ("Authority", f"guardian link #{link.pk}: {link.get_relationship_display()}, consent permission, linked {link.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"),
        ("Signed at", f"{record.signed_at.astimezone(UTC).isoformat(timespec='microseconds')} (UTC); {local:%d %b %Y %H:%M:%S %Z} at the school"),
        ("IP address", record.ip_address or "(unknown)"),
        ("User agent", record.user_agent or "(unknown)"),
        ("Form hash (SHA-256)", record.form_hash),
        # A de-identified record keeps the hash of its original image only when the record held it (version 2).
        ("Signature image (SHA-256)", sha256_hex(signature_png) if signature_png else record.signature_png_sha256 or "(removed)"),
        ("Record", f"#{record.sequence} in {event.school.name}'s consent chain"),
        ("Previous record hash", record.previous_hash),
        ("Record hash", record.record_hash),
    ]
    story += [Spacer(1, 3 * mm), _p("Evidence", "Heading2")]
    table = Table([[_p(label), _p(value, "Evidence")] for label, value in evidence], colWidths=[40 * mm, 134 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(table)
    return _build(story, title=f"Consent {record.record_hash[:12]}", instant=record.signed_at)


def roster_pdf(roster: dict, *, generated_at) -> bytes:
    event = roster["event"]
    zone = ZoneInfo(event.school.time_zone)
    questions = roster["questions"]
    header = ["Student", "Class", "Status", "Consent", "Paid", "Attendance", *[q["label"] for q in questions]]
    data = [[_p(cell, "BodyText") for cell in header]]
    for row in roster["rows"]:
        signup, student, record = row["signup"], row["student"], row["consent"]
        answers = {answer["key"]: answer for answer in row["answers"]}
        data.append(
            [
                _p(f"{student.last_name}, {student.first_name}"),
                _p(student.roll_class),
                _p(signup.status.replace("_", " ")),
                _p(f"{record.typed_name}, {record.signed_at.astimezone(zone):%d %b %H:%M}" if record else "-"),
                _p(f"${format_dollars(signup.amount_paid - signup.refunded_amount)} of ${format_dollars(signup.amount_due)}"),
                _p(signup.attendance or "-"),
                *[_p(_answer_text(answers[q["key"]]) if q["key"] in answers else "-") for q in questions],
            ]
        )
    for student in roster["not_responded"]:
        data.append([_p(f"{student.last_name}, {student.first_name}"), _p(student.roll_class), _p("no response"), *[_p("-") for _ in header[3:]]])
    counts = roster["counts"]
    story = [
        _p(f"Roster: {event.title}", "Title"),
        _p(
            f"{event.starts_at.astimezone(zone):%a %d %b %Y %H:%M} at {event.location}. Places: {counts['places_taken']} of {event.capacity} "
            f"(confirmed {counts['confirmed']}, awaiting payment {counts['awaiting_payment'] + counts['offered']}, waitlisted {counts['waitlisted']}, "
            f"no response {counts['not_responded']})."
            + ("" if roster["include_medical"] else " Medical answers are withheld for your role.")
        ),
        Spacer(1, 4 * mm),
    ]
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    return _build(story, title=f"Roster {event.title}", instant=generated_at, pagesize=landscape(A4))
