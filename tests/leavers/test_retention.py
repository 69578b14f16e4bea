"""De-identification after the retention period: the child's personal data goes, the money and the
evidence chain stay exactly as they were and still verify."""

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from audit.models import AuditEntry
from canteen.models import FoodProfile
from events.chain import consent_chain_verify
from events.models import ConsentRecord
from events.services import signup_sign
from events.services.signups import Evidence
from guardians.leavers_models import StudentLeaver
from guardians.models import AbsenceNote, Student
from guardians.retention import leaver_deidentify
from guardians.tasks import leavers_sweep
from tests.canteen.conftest import MONDAY_MORNING
from tests.events.conftest import ANSWERS, SIGNATURE
from tests.events.conftest import family as another_family
from tests.leavers.conftest import MONDAY, paid_excursion
from tests.wallet.conftest import assert_ledger_consistent
from wallet.models import Account, Entry, LedgerTransaction

pytestmark = pytest.mark.django_db

DAY_BEFORE = "2026-12-29T12:59:00Z"  # 23:59 on 29 December in Sydney: retain_until (30 December) not yet come
THE_DAY = "2026-12-29T13:23:00Z"  # 00:23 on 30 December in Sydney


@pytest.fixture
def leaver(family):
    """The family's child, with a food profile, an absence note and a signed excursion consent, leaves on
    Monday; a classmate signs the same excursion afterwards, so a record follows the leaver's in the chain."""
    with time_machine.travel(MONDAY_MORNING, tick=False):
        FoodProfile.objects.create(student=family.student, allergens=["peanut"], dietary_needs=["vegetarian"], notes="EpiPen in the front pocket")
        AbsenceNote.objects.create(
            student=family.student, reported_by=family.link.guardian, link=family.link, first_day=MONDAY, last_day=MONDAY,
            reason="medical_appointment", details="Paediatrician about the asthma",
        )
        signup = paid_excursion(family)
        classmate = another_family(family.canteen.school)
        signup_sign(
            event_id=signup.event_id, link=classmate, form_hash=signup.event.consent_form.content_hash, answers=ANSWERS, signature=SIGNATURE,
            typed_name=classmate.guardian.user.full_name, statement_accepted=True, evidence=Evidence(ip_address="203.0.113.7", user_agent="ua"),
        )
        assert family.mark(MONDAY).status_code == 201
    return family


def _tamper(sql: str, params: list):
    """Change a record as a database superuser could, with the append-only trigger off for the moment
    (as tests/events/test_consent_evidence.py does; the deferred foreign-key checks must be done first)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE events_consentrecord DISABLE TRIGGER events_consentrecord_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE events_consentrecord ENABLE TRIGGER events_consentrecord_append_only")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def money_state() -> dict:
    return {
        "balances": dict(Account.objects.values_list("pk", "balance")),
        "held": dict(Account.objects.values_list("pk", "held")),
        "transactions": LedgerTransaction.objects.count(),
        "entries": Entry.objects.aggregate(n=Sum("id"), total=Sum("amount")),
    }


def test_nothing_is_touched_before_the_retention_date(leaver):
    with time_machine.travel(DAY_BEFORE, tick=False):
        assert leavers_sweep() == {"processed": 0, "deidentified": 0}
    student = Student.objects.get(pk=leaver.student.pk)
    assert student.first_name != "Former" and student.date_of_birth.month == 5
    assert FoodProfile.objects.get(student=student).allergens == ["peanut"]
    assert ConsentRecord.objects.get(student=student).deidentified_at is None


def test_the_personal_data_goes_and_the_ledger_totals_and_consent_chain_stay(leaver):
    school = leaver.canteen.school
    record = ConsentRecord.objects.get(student=leaver.student)
    hashes_before = list(ConsentRecord.objects.filter(school=school).order_by("sequence").values_list("record_hash", "previous_hash"))
    assert consent_chain_verify(school=school).valid
    money_before = money_state()

    with time_machine.travel(THE_DAY, tick=False):
        assert leavers_sweep() == {"processed": 0, "deidentified": 1}
        assert leavers_sweep() == {"processed": 0, "deidentified": 0}  # a second run finds nothing to do

    student = Student.objects.get(pk=leaver.student.pk)
    assert (student.first_name, student.last_name, student.roll_class, student.student_number) == ("Former", "student", "", f"left-{student.pk}")
    assert student.date_of_birth.isoformat() == "2016-01-01"  # the year only
    profile = FoodProfile.objects.get(student=student)
    assert (profile.allergens, profile.dietary_needs, profile.notes) == ([], [], "")
    assert AbsenceNote.objects.get(student=student).details == ""
    record.refresh_from_db()
    assert (record.answers, record.signature_strokes, bytes(record.signature_png), record.typed_name, record.ip_address, record.user_agent) == (
        {}, [], b"", "", "", ""
    )
    assert record.deidentified_at is not None
    # The chain is the same chain: every hash and link as signed, and it verifies.
    assert list(ConsentRecord.objects.filter(school=school).order_by("sequence").values_list("record_hash", "previous_hash")) == hashes_before
    report = consent_chain_verify(school=school)
    assert (report.valid, report.records, report.deidentified) == (True, 2, 1)
    # Money: not one row or cent changed, and the ledger reconciles.
    assert money_state() == money_before
    assert_ledger_consistent()
    leaver_row = StudentLeaver.objects.get()
    assert leaver_row.deidentified_at is not None
    entry = AuditEntry.objects.get(action="student.deidentify")
    assert (entry.actor_kind, entry.object_id, entry.school_id) == ("system", str(student.pk), school.pk)
    with time_machine.travel(THE_DAY, tick=False):
        assert leaver.admin_client.get(f"/api/v1/students/{student.pk}/leaver").json()["status"] == "deidentified"


def test_a_tampered_record_next_to_a_de_identified_one_is_still_caught(leaver):
    with time_machine.travel(THE_DAY, tick=False):
        leavers_sweep()
    school = leaver.canteen.school
    classmate_record = ConsentRecord.objects.get(school=school, deidentified_at__isnull=True)
    _tamper("UPDATE events_consentrecord SET typed_name = %s WHERE id = %s", ["Someone Else", classmate_record.pk])
    report = consent_chain_verify(school=school)
    assert [problem["code"] for problem in report.problems] == ["record_changed"]
    assert report.deidentified == 1


@pytest.mark.parametrize(
    "change",
    [
        {"typed_name": "Someone Else"},  # any ordinary edit
        {"answers": {}, "signature_strokes": [], "signature_png": b"", "typed_name": "", "ip_address": "", "user_agent": "", "deidentified_at": "2026-12-30T00:00:00Z", "record_hash": "0" * 64},
        {"answers": {"allergies": "none"}, "deidentified_at": "2026-12-30T00:00:00Z"},  # not a blanking
    ],
)
def test_the_database_allows_a_consent_record_only_the_de_identification(leaver, change):
    record = ConsentRecord.objects.get(student=leaver.student)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).delete()


def test_a_de_identified_record_is_never_changed_again(leaver):
    with time_machine.travel(THE_DAY, tick=False):
        leavers_sweep()
    record = ConsentRecord.objects.get(student=leaver.student)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(deidentified_at="2027-01-01T00:00:00Z")


def test_an_undone_or_unprocessed_leaver_is_never_de_identified(family):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        from tests.leavers.test_marking import FRIDAY

        family.mark(FRIDAY)
        family.admin_client.delete(f"/api/v1/students/{family.student.pk}/leaver")
    leaver_row = StudentLeaver.objects.get()
    with time_machine.travel("2027-06-01T00:00:00Z", tick=False):
        assert leaver_deidentify(leaver_id=leaver_row.pk) is False
        assert leavers_sweep()["deidentified"] == 0
    assert Student.objects.get(pk=family.student.pk).first_name == family.student.first_name


def test_the_consent_document_of_a_de_identified_record_still_renders_without_the_personal_facts(leaver, client_for):
    import io

    from pypdf import PdfReader

    record = ConsentRecord.objects.get(student=leaver.student)
    with time_machine.travel(THE_DAY, tick=False):
        leavers_sweep()
        response = client_for(leaver.admin.user).get(f"/api/v1/consents/{record.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "De-identified on 2026-12-29" in text and "Former student" in text
    assert "Peanuts" not in text and "203.0.113.9" not in text and "pytest-browser" not in text  # answers, IP, user agent
    assert record.record_hash[:16] in text.replace("\n", "")
