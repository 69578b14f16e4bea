"""The hot reads written as SQL (core/sql.py, each app's queries.py) load what the ORM would, and the
roles read with a session are not asked again (core/roles.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from api.serializers.flat_lists import FlatListSerializer
from canteen import queries as canteen_queries
from canteen.models import FoodProfile
from core import clock, roles
from core.sql import columns, fetch
from guardians import queries as guardian_queries
from guardians.models import AuthSession, Guardian, School, Student
from guardians.selectors import guardian_for_user, staff_for_user
from tests.factories import GuardianLinkFactory, StaffFactory, StudentFactory
from vouchers.selectors import program_admin as program_admin_for_user

pytestmark = pytest.mark.django_db


def test_fetch_loads_each_model_of_a_row_and_none_for_a_left_join_that_found_nothing():
    with_school = StudentFactory()
    sql = f"""
        SELECT {columns(Student, "s")}, {columns(School, "sc")}, {columns(Guardian, "g")}
          FROM guardians_student s
          JOIN guardians_school sc ON sc.id = s.school_id
          LEFT JOIN guardians_guardian g ON g.id = -1
         WHERE s.id = %s"""

    [(student, school, guardian)] = fetch(sql, [with_school.pk], (Student, School, Guardian))

    assert (student.pk, student.first_name, student.date_of_birth) == (with_school.pk, with_school.first_name, with_school.date_of_birth)
    assert school.pk == with_school.school_id and school.time_zone == with_school.school.time_zone
    assert guardian is None
    assert student._state.adding is False  # loaded from the database: a save() updates, never inserts


def test_fetch_converts_fields_as_the_orm_does_json_arrives_as_python_values():
    student = StudentFactory()
    FoodProfile.objects.create(student=student, allergens=["peanut", "sesame"], banned_item_ids=[4, 9])

    profile = canteen_queries.food_profile(student.pk)

    assert profile.allergens == ["peanut", "sesame"]
    assert profile.banned_item_ids == [4, 9]
    assert profile == FoodProfile.objects.get(student=student)


def _session_for(user) -> AuthSession:
    return AuthSession.objects.create(user=user, current_refresh_jti="jti-test", expires_at=clock.now() + timedelta(days=1))


def test_the_session_probe_loads_the_user_and_records_the_roles_they_lack():
    guardian = GuardianLinkFactory().guardian
    session = guardian_queries.session_with_user(_session_for(guardian.user).pk)

    with CaptureQueriesContext(connection) as queries:
        assert guardian_for_user(session.user) == guardian
        assert staff_for_user(session.user) is None
        assert program_admin_for_user(session.user) is None

    assert queries.captured_queries == []  # known from the probe: no query asks again


def test_a_staff_member_probed_with_the_session_keeps_the_relation_filled():
    staff = StaffFactory()
    session = guardian_queries.session_with_user(_session_for(staff.user).pk)

    with CaptureQueriesContext(connection) as queries:
        assert session.user.staff.school_id == staff.school_id
        assert guardian_for_user(session.user) is None

    assert queries.captured_queries == []


def test_a_user_loaded_elsewhere_is_asked_through_the_relation():
    staff = StaffFactory()
    user = type(staff.user).objects.get(pk=staff.user.pk)

    assert roles.role_of(user, "staff") == staff
    assert roles.role_of(user, "guardian") is None
    assert roles.role_of(None, "guardian") is None


class _Line:
    def __init__(self, **values):
        self.__dict__.update(values)


class _LineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    when = serializers.DateTimeField()
    memo = serializers.CharField(allow_null=True)

    class Meta:
        list_serializer_class = FlatListSerializer


def test_a_flat_list_renders_what_the_serializer_declares_and_none_as_null(settings):
    from datetime import UTC, datetime

    rows = [_Line(id=1, when=datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC), memo=None), _Line(id=2, when=None, memo="Lunch")]

    assert _LineOutput(rows, many=True).data == [
        {"id": 1, "when": serializers.DateTimeField().to_representation(rows[0].when), "memo": None},
        {"id": 2, "when": None, "memo": "Lunch"},
    ]


def test_a_flat_list_refuses_a_field_that_is_not_a_plain_attribute():
    class Dotted(serializers.Serializer):
        kind = serializers.CharField(source="transaction.kind")

        class Meta:
            list_serializer_class = FlatListSerializer

    with pytest.raises(TypeError, match="not a plain attribute"):
        Dotted([_Line(transaction=None)], many=True).to_representation([_Line(transaction=None)])
