"""The audit log is append-only in PostgreSQL itself: UPDATE and DELETE are refused, whoever asks."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def row():
    staff = StaffFactory(roles=["admin"])
    return audit_record(action="test.action", object_type="test.thing", object_id=1, after={"state": "new"}, actor=staff.user)


@pytest.mark.parametrize(
    "attempt",
    [
        lambda pk: AuditEntry.objects.filter(pk=pk).update(action="something.else"),
        lambda pk: AuditEntry.objects.filter(pk=pk).delete(),
        lambda pk: AuditEntry.objects.get(pk=pk).save(),
        lambda pk: AuditEntry.objects.get(pk=pk).delete(),
    ],
    ids=["orm-update", "orm-delete", "model-save", "model-delete"],
)
def test_rows_cannot_be_changed_or_removed_through_the_orm(row, attempt):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            attempt(row.pk)
    assert AuditEntry.objects.filter(pk=row.pk, action="test.action", after={"state": "new"}).exists()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditentry SET after = '{}'::jsonb WHERE id = %s", "DELETE FROM audit_auditentry WHERE id = %s"],
    ids=["sql-update", "sql-delete"],
)
def test_rows_cannot_be_changed_or_removed_in_plain_sql(row, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [row.pk])
    assert AuditEntry.objects.get(pk=row.pk).after == {"state": "new"}


def test_rows_can_still_be_appended(row):
    audit_record(action="test.second", object_type="test.thing", object_id=1)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["test.action", "test.second"]
