"""A consent's documents: the signature's PNG and the consent PDF, rendered once from the record and
stored with their hashes (`ConsentDocument`), off the sign-up's request path.

A sign-up used to render the PNG while the guardian waited, taking CPU from the other families of a
burst, and every read of the consent laid its PDF out again to quote its hash. Now the sign-up
stores the strokes the guardian drew and answers, and:

- the beat job `events.tasks.render_consent_documents` renders the documents of records signed more
  than RENDER_AFTER ago, so a burst of sign-ups never shares the CPU with its own documents;
- a read that finds none yet (the guardian opens the consent at once) renders them then, and stores
  them the same way;
- every later read serves the stored bytes, so a download is the same bytes every time, even after
  the event or a name has been edited, and its SHA-256 is read, not recomputed.

Whichever renders first stores; the other finds the row and returns it. The store happens under the
record's row lock, which a leaver's de-identification (events/leavers.py) also takes: documents
rendered from a record's personal facts are never stored after those facts were removed. Records
signed before the documents existed (canonical version 2) hold their PNG: it is used as it is, never
rendered again.
"""

from datetime import timedelta

import structlog
from django.db import transaction

from core import clock
from core.locks import lock_one
from events.canonical import sha256_hex
from events.models import ConsentDocument, ConsentRecord
from events.pdf import consent_pdf
from events.signature import signature_render

log = structlog.get_logger("events.documents")
RENDER_AFTER = timedelta(minutes=1)
RENDER_BATCH = 200
RECORD_RELATIONS = ("school", "event__school", "student", "guardian__user", "link", "form_version")


def consent_document(record: ConsentRecord) -> ConsentDocument:
    """The record's stored documents, rendered and stored now when no job has made them yet."""
    stored = ConsentDocument.objects.filter(record_id=record.pk).first()
    return stored if stored is not None else consent_document_render(record)


def consent_document_render(record: ConsentRecord) -> ConsentDocument:
    """Render the documents from the record as it stands, and store them unless another renderer has.
    Rendered before the lock is taken (it is the slow part), and again under it in the rare case the
    record was de-identified meanwhile."""
    document = _rendered(record)
    with transaction.atomic():
        current = lock_one(ConsentRecord.objects.filter(pk=record.pk).only("pk", "deidentified_at"))
        stored = ConsentDocument.objects.filter(record_id=record.pk).first()
        if stored is not None:
            return stored
        if current.deidentified_at != record.deidentified_at:
            document = _rendered(ConsentRecord.objects.select_related(*RECORD_RELATIONS).get(pk=record.pk))
        document.save(force_insert=True)
    return document


def _rendered(record: ConsentRecord) -> ConsentDocument:
    png = _signature_image(record)
    pdf = consent_pdf(record, signature_png=png)
    return ConsentDocument(
        record_id=record.pk,
        signature_png=png,
        signature_png_sha256=sha256_hex(png) if png else "",
        pdf=pdf,
        pdf_sha256=sha256_hex(pdf),
        rendered_at=clock.now(),
    )


def consent_documents_render_due(*, after_id: int = 0, limit: int = RENDER_BATCH) -> list[int]:
    """The beat job's step: render the documents of up to `limit` records after `after_id` that were
    signed over RENDER_AFTER ago and have none. Returns the ids it went through: a record that fails
    to render is logged and left for the next run, and does not hold up the ones after it."""
    due = (
        ConsentRecord.objects.filter(pk__gt=after_id, document__isnull=True, signed_at__lt=clock.now() - RENDER_AFTER)
        .select_related(*RECORD_RELATIONS)
        .order_by("pk")[:limit]
    )
    ids = []
    for record in due:
        ids.append(record.pk)
        try:
            consent_document_render(record)
        except Exception:  # one bad record must not stop the rest; it is tried again next run
            log.exception("consent_document_render_failed", record_id=record.pk)
    return ids


def _signature_image(record: ConsentRecord) -> bytes:
    if record.deidentified_at is not None:
        return b""  # the strokes are gone with the rest of the personal facts
    if record.signature_png_sha256:  # canonical version 2: the record holds the image it was signed with
        return bytes(record.signature_png)
    return signature_render(record.signature_strokes)
