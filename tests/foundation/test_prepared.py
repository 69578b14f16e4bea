"""guardians/prepared.py: reads compiled once must return what the ORM returns; writes must write what save() would."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import IdempotencyRecord
from core import clock
from core.models_webhooks import WebhookSubscription
from guardians.models import AuthSession, Student
from guardians.prepared import INT_LIST, PreparedRead, insert_instance, update_row
from tests.factories import GuardianLinkFactory, SchoolFactory, StaffFactory, StudentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {name: value for name, value in vars(obj).items() if name != "_state"}


def test_a_prepared_read_returns_the_same_objects_as_the_orm_select_related_included():
    link = GuardianLinkFactory()
    user = link.guardian.user
    session = AuthSession.objects.create(user=user, current_refresh_jti="j", expires_at=clock.now())
    build = lambda session_id: AuthSession.objects.select_related("user", "user__guardian", "user__staff").filter(pk=session_id)[:1]  # noqa: E731
    read = PreparedRead(build, session_id=uuid.UUID)

    found = read.first(session_id=str(session.pk))  # a UUID given as text, as a token carries it
    expected = build(session.pk)[0]

    assert _fields(found) == _fields(expected)
    assert _fields(found.user) == _fields(expected.user)
    assert _fields(found.user.guardian) == _fields(expected.user.guardian)
    assert found.user._state.fields_cache["staff"] is None  # a missing reverse one-to-one is known absent, as with the ORM
    with CaptureQueriesContext(connection) as queries:
        assert found.user.guardian.pk == link.guardian.pk
    assert len(queries) == 0
    assert read.first(session_id=str(uuid.uuid4())) is None


def test_each_call_binds_its_own_values_and_lists_compile_per_length():
    school = SchoolFactory()
    students = StudentFactory.create_batch(4, school=school)
    other_school = SchoolFactory()
    read = PreparedRead(
        lambda school_id, student_ids: Student.objects.filter(school_id=school_id, pk__in=student_ids).order_by("pk"),
        school_id=int,
        student_ids=INT_LIST,
    )

    assert [s.pk for s in read.all(school_id=school.pk, student_ids=[students[0].pk])] == [students[0].pk]
    assert [s.pk for s in read.all(school_id=school.pk, student_ids=[students[3].pk, students[1].pk])] == [students[1].pk, students[3].pk]
    assert [s.pk for s in read.all(school_id=school.pk, student_ids=[students[2].pk])] == [students[2].pk]
    assert read.all(school_id=other_school.pk, student_ids=[s.pk for s in students]) == []


def test_annotations_and_deferred_fields_come_through():
    student = StudentFactory(first_name="Mia")
    read = PreparedRead(lambda student_id: Student.objects.only("id", "first_name").filter(pk=student_id)[:1], student_id=int)

    found = read.first(student_id=student.pk)

    assert found.first_name == "Mia"
    assert found.get_deferred_fields() == Student.objects.only("id", "first_name").get(pk=student.pk).get_deferred_fields()


def test_a_parameter_that_is_not_an_equality_is_refused_when_first_used():
    read = PreparedRead(lambda name: Student.objects.filter(first_name__icontains=name), name=str)

    with pytest.raises(ValueError, match="not compared for equality"):
        read.all(name="Mi")


def test_wrong_or_missing_parameters_are_refused():
    read = PreparedRead(lambda student_id: Student.objects.filter(pk=student_id), student_id=int)

    with pytest.raises(TypeError):
        read.all(pk=1)
    with pytest.raises(TypeError):
        PreparedRead(lambda when: Student.objects.filter(created_at=when), when=float).all(when=1.0)


def test_a_column_wrapped_by_the_backend_still_binds():
    # program_id is a PositiveBigIntegerField: psycopg binds it as its own Int8 type.
    staff = StaffFactory()
    subscription = WebhookSubscription.objects.create(
        program_id=77, url="https://example.org/hook", event_types=["voucher.redeemed"], secret="s", created_by=staff.user
    )
    read = PreparedRead(lambda program_id: WebhookSubscription.objects.filter(program_id=program_id), program_id=int)

    assert [s.pk for s in read.all(program_id=77)] == [subscription.pk]
    assert read.all(program_id=78) == []


def test_insert_instance_writes_what_save_would_and_update_row_changes_one_row():
    now = clock.now()
    user = UserFactory()
    record = insert_instance(
        IdempotencyRecord(
            caller=f"user:{user.pk}", key="k1", request_fingerprint="f", method="POST", path="/x", locked_at=now, expires_at=now
        )
    )

    stored = IdempotencyRecord.objects.get(pk=record.pk)
    assert (stored.caller, stored.key, stored.status_code, stored.response_headers, stored.created_at) == (
        f"user:{user.pk}", "k1", None, {}, record.created_at
    )
    assert record._state.adding is False

    assert update_row(IdempotencyRecord, record.pk, {"status_code": 201, "response_body": b"{}", "response_headers": {"Location": "/y"}}) == 1
    stored.refresh_from_db()
    assert (stored.status_code, bytes(stored.response_body), stored.response_headers) == (201, b"{}", {"Location": "/y"})
    assert update_row(IdempotencyRecord, record.pk + 1000, {"status_code": 200}) == 0


def test_a_date_parameter_binds_on_either_database():
    from datetime import date

    from guardians.models import ClosureDay

    school = SchoolFactory()
    closed = ClosureDay.objects.create(school=school, date=date(2026, 12, 2), reason="Pupil-free day")
    read = PreparedRead(lambda school_id, day: ClosureDay.objects.filter(school_id=school_id, date=day), school_id=int, day=date)

    assert [c.pk for c in read.all(school_id=school.pk, day=date(2026, 12, 2))] == [closed.pk]
    assert read.all(school_id=school.pk, day=date(2026, 12, 3)) == []


def test_insert_instances_gives_each_row_its_own_key_in_order():
    from guardians.prepared import insert_instances

    school = SchoolFactory()
    students = insert_instances([StudentFactory.build(school=school, first_name=name) for name in ("Ava", "Ben", "Cy")])

    assert [Student.objects.get(pk=s.pk).first_name for s in students] == ["Ava", "Ben", "Cy"]
    assert len({s.pk for s in students}) == 3
    assert insert_instances([]) == []


def test_a_number_no_column_can_hold_matches_nothing():
    student = StudentFactory()
    read = PreparedRead(lambda school_id, student_ids: Student.objects.filter(school_id=school_id, pk__in=student_ids), school_id=int, student_ids=INT_LIST)

    assert read.all(school_id=10**30, student_ids=[student.pk]) == []
    assert read.all(school_id=student.school_id, student_ids=[2**63]) == []
    assert [s.pk for s in read.all(school_id=student.school_id, student_ids=[student.pk, 2**63])] == [student.pk]
