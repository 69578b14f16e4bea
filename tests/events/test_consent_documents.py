"""A consent's documents (its signature PNG and its PDF) are rendered once, off the sign-up's request,
and served as stored: by the beat job a minute after signing, or by the first read if it comes sooner
(events/documents.py). Records signed before version 3 keep the PNG they hold."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, transaction

from core import clock
from events.canonical import sha256_hex
from events.chain import canonical_version, consent_chain_verify, record_hash
from events.documents import consent_document_render
from events.leavers import leaver_consent_deidentify
from events.models import ConsentDocument, ConsentEventChain, ConsentRecord, Event
from events.pdf import consent_pdf
from events.signature import signature_render
from events.tasks import render_consent_documents
from tests.concurrency import run_concurrently
from tests.events.test_consent_evidence import _tamper
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_signed(signed):
    """The two consent records of `signed` (tests/events/conftest.py), in the order they were signed."""
    return list(ConsentRecord.objects.filter(event=signed).order_by("pk"))


def test_the_job_renders_the_documents_of_consents_signed_over_a_minute_ago(two_signed):
    assert render_consent_documents() == 0  # just signed: a burst is not competed with by its own documents

    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert render_consent_documents() == 2
        assert render_consent_documents() == 0

    for record in two_signed:
        document = ConsentDocument.objects.get(record=record)
        png, pdf = bytes(document.signature_png), bytes(document.pdf)
        assert png == signature_render(record.signature_strokes)
        assert document.signature_png_sha256 == sha256_hex(png)
        assert pdf.startswith(b"%PDF") and document.pdf_sha256 == sha256_hex(pdf)
        full = ConsentRecord.objects.select_related("event__school", "student", "guardian__user", "link", "form_version").get(pk=record.pk)
        assert pdf == consent_pdf(full, signature_png=png)  # the PDF shows the image stored beside it
    assert consent_chain_verify(school=two_signed[0].school).valid


def test_a_read_before_the_job_renders_once_and_every_read_serves_the_stored_bytes(world, client_for, two_signed):
    record = two_signed[0]
    guardian, admin = client_for(world.link.guardian.user), client_for(world.admin.user)

    detail = admin.get(f"/api/v1/consents/{record.pk}").json()
    document = ConsentDocument.objects.get(record=record)
    assert (detail["document_sha256"], detail["signature_png_sha256"]) == (document.pdf_sha256, document.signature_png_sha256)

    Event.objects.filter(pk=record.event_id).update(title="Renamed after signing")
    download = guardian.get(f"/api/v1/consents/{record.pk}/pdf")
    image = guardian.get(f"/api/v1/consents/{record.pk}/signature.png")

    assert download.status_code == 200 and download.content == bytes(document.pdf)
    assert download["ETag"] == f'"{document.pdf_sha256}"'
    assert image.status_code == 200 and image.content == bytes(document.signature_png)
    # The stored document is what was rendered; a new rendering would show the new title.
    renamed = ConsentRecord.objects.select_related("event__school").get(pk=record.pk)
    assert consent_pdf(renamed, signature_png=bytes(document.signature_png)) != download.content
    assert ConsentDocument.objects.count() == 1
    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert render_consent_documents() == 1  # only the other record was still due


@pytest.mark.django_db(transaction=True)
def test_rendering_at_once_from_four_threads_stores_one_document(two_signed):
    record = two_signed[0]
    documents = run_concurrently(lambda _: consent_document_render(ConsentRecord.objects.get(pk=record.pk)), 4)

    assert ConsentDocument.objects.filter(record=record).count() == 1
    assert len({bytes(document.pdf) for document in documents}) == 1


def test_a_version_2_record_keeps_the_png_it_holds_and_still_verifies(two_signed):
    """Before version 3 the PNG was rendered during the sign-up, stored in the record and hashed with it."""
    record = ConsentRecord.objects.filter(event_id=two_signed[0].event_id).order_by("-sequence").first()
    held_png = signature_render({**record.signature_strokes, "width": record.signature_strokes["width"] * 2})
    record.signature_png, record.signature_png_sha256 = held_png, sha256_hex(held_png)
    assert canonical_version(record) == 2
    rehashed = record_hash(record, record.previous_hash)
    _tamper(
        "UPDATE events_consentrecord SET signature_png = %s, signature_png_sha256 = %s, record_hash = %s WHERE id = %s",
        [held_png, record.signature_png_sha256, rehashed, record.pk],
    )
    ConsentEventChain.objects.filter(event_id=record.event_id).update(head_hash=rehashed)

    assert consent_chain_verify(school=record.school).valid
    document = consent_document_render(ConsentRecord.objects.get(pk=record.pk))
    assert bytes(document.signature_png) == held_png  # used as held, not rendered again from the strokes

    _tamper("UPDATE events_consentrecord SET signature_png = %s WHERE id = %s", [b"\x89PNG not the same", record.pk])
    problems = consent_chain_verify(school=record.school).problems
    assert [problem["code"] for problem in problems] == ["signature_image_changed"]


def test_the_strokes_are_in_the_record_hash(two_signed):
    record = two_signed[0]
    strokes = {**record.signature_strokes, "strokes": [[[1, 1], [200, 150]]]}
    _tamper("UPDATE events_consentrecord SET signature_strokes = %s WHERE id = %s", [json.dumps(strokes), record.pk])

    problems = consent_chain_verify(school=record.school).problems

    assert [(problem["record_id"], problem["code"]) for problem in problems] == [(record.pk, "record_changed")]


def test_postgres_refuses_to_change_a_stored_document(two_signed):
    document = consent_document_render(two_signed[0])
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            ConsentDocument.objects.filter(pk=document.pk).update(pdf=b"%PDF forged")


def test_de_identifying_a_leaver_deletes_the_documents_and_a_read_renders_the_de_identified_one(world, client_for, two_signed):
    record = two_signed[0]
    original = consent_document_render(record)

    assert leaver_consent_deidentify(student_id=record.student_id) == 1

    assert not ConsentDocument.objects.filter(record=record).exists()
    download = client_for(world.admin.user).get(f"/api/v1/consents/{record.pk}/pdf")
    document = ConsentDocument.objects.get(record=record)
    assert download.status_code == 200 and download.content == bytes(document.pdf) != bytes(original.pdf)
    assert (bytes(document.signature_png), document.signature_png_sha256) == (b"", "")
    assert_problem(client_for(world.admin.user).get(f"/api/v1/consents/{record.pk}/signature.png"), 404, "signature_removed")


def test_a_record_that_fails_to_render_is_logged_and_the_job_goes_on(two_signed, monkeypatch):
    import events.documents

    first, second = two_signed
    real_pdf = events.documents.consent_pdf

    def fails_for_the_first(record, **kwargs):
        if record.pk == first.pk:
            raise ValueError("cannot lay this out")
        return real_pdf(record, **kwargs)

    monkeypatch.setattr(events.documents, "consent_pdf", fails_for_the_first)
    with time_machine.travel(clock.now() + timedelta(minutes=2)):
        assert render_consent_documents() == 2  # went through both
        assert list(ConsentDocument.objects.values_list("record_id", flat=True)) == [second.pk]
        monkeypatch.setattr(events.documents, "consent_pdf", real_pdf)
        assert render_consent_documents() == 1  # tried again on the next run
    assert ConsentDocument.objects.count() == 2
