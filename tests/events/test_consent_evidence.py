"""Consent evidence holds up: records are append-only in PostgreSQL, any change behind the application's back
is found by the verify endpoint and the nightly task, and the signed PDF is rendered the same byte for byte."""

import hashlib
import json

import pytest
from django.db import DatabaseError, connection, transaction

from core.models import Notification
from events.chain import record_hash
from events.models import ConsentFormVersion, ConsentRecord
from events.pdf import consent_pdf
from events.signature import signature_render
from events.tasks import verify_consent_chains
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def _tamper(sql: str, params: list, *, table: str = "events_consentrecord", trigger: str = "events_consentrecord_append_only"):
    """Change a row as a database superuser could: with the append-only trigger switched off for the moment."""
    with connection.cursor() as cursor:
        # The test's transaction still holds deferred foreign-key checks; ALTER TABLE needs them done.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_verify_reports_an_intact_chain(world, client_for, signed):
    response = client_for(world.admin.user).get("/api/v1/consent-chain/verify")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["records"] == 2 and body["problems"] == []
    assert body["head_hash"] == ConsentRecord.objects.get(sequence=2).record_hash


def test_verify_detects_a_changed_record(world, client_for, signed):
    first = ConsentRecord.objects.get(sequence=1)
    _tamper("UPDATE events_consentrecord SET typed_name = %s WHERE id = %s", ["Somebody Else", first.pk])

    body = client_for(world.admin.user).get("/api/v1/consent-chain/verify").json()

    assert body["valid"] is False
    assert body["problems"] == [{"sequence": 1, "record_id": first.pk, "code": "record_changed", "detail": "the record's content does not match its hash"}]


def test_verify_detects_a_rewritten_hash_and_a_changed_form(world, client_for, signed):
    first = ConsentRecord.objects.get(sequence=1)
    # Rewriting the hash to match the forgery breaks the link from the next record instead.
    forged = ConsentRecord.objects.get(pk=first.pk)
    forged.answers = {**forged.answers, "allergies": "none"}
    _tamper("UPDATE events_consentrecord SET answers = %s, record_hash = %s WHERE id = %s", [json.dumps(forged.answers), record_hash(forged, forged.previous_hash), first.pk])
    _tamper(
        "UPDATE events_consentformversion SET content = %s WHERE id = %s",
        ['{"body": "Different words", "statement": "x", "questions": []}', signed.consent_form_id],
        table="events_consentformversion",
        trigger="events_consentformversion_append_only",
    )

    codes = {(p["sequence"], p["code"]) for p in client_for(world.admin.user).get("/api/v1/consent-chain/verify").json()["problems"]}

    assert {(2, "previous_hash_mismatch"), (1, "form_changed"), (2, "form_changed")} <= codes


def test_the_nightly_task_tells_the_admins_of_a_broken_chain(world, signed):
    _tamper("UPDATE events_consentrecord SET ip_address = %s WHERE sequence = 2", ["10.9.9.9"])
    assert verify_consent_chains() == [world.school.pk]
    notice = Notification.objects.get(kind="consent_chain_broken")
    assert notice.user == world.admin.user
    assert notice.data["problems"][0]["code"] == "record_changed"


def test_only_admins_verify(world, client_for):
    assert_problem(client_for(world.teacher.user).get("/api/v1/consent-chain/verify"), 403, "permission_denied")


def test_postgres_refuses_to_edit_or_delete_consent_evidence(signed):
    record = ConsentRecord.objects.first()
    for attempt in (
        lambda: ConsentRecord.objects.filter(pk=record.pk).update(typed_name="x"),
        lambda: ConsentRecord.objects.filter(pk=record.pk).delete(),
        lambda: ConsentFormVersion.objects.filter(pk=record.form_version_id).update(content={}),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                attempt()


def test_the_consent_pdf_is_rendered_the_same_byte_for_byte(world, client_for, signed):
    record = ConsentRecord.objects.get(sequence=1)
    png = signature_render(record.signature_strokes)
    first = consent_pdf(record, signature_png=png)
    again = consent_pdf(ConsentRecord.objects.get(pk=record.pk), signature_png=png)
    assert first.startswith(b"%PDF")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    assert record.signed_at.strftime("D:%Y%m%d%H%M%S").encode() in first

    download = client_for(world.link.guardian.user).get(f"/api/v1/consents/{record.pk}/pdf")
    detail = client_for(world.admin.user).get(f"/api/v1/consents/{record.pk}").json()

    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content == first
    assert download["ETag"] == f'"{detail["document_sha256"]}"' == f'"{hashlib.sha256(first).hexdigest()}"'
