"""Helpers for audit log tests: the one row a request wrote, and a staff client at a school."""

import pytest

from audit.models import AuditEntry
from tests.factories import StaffFactory

USER_AGENT = "TuckboxStaff/2.3 (iPad; audit test)"
REQUEST_ID = "audit-test-request-0001"


def only_row(**filters) -> AuditEntry:
    rows = list(AuditEntry.objects.filter(**filters))
    assert len(rows) == 1, [(row.action, row.object_type, row.object_id) for row in rows]
    return rows[0]


@pytest.fixture
def staff_client(client_for):
    """A signed-in client for a new staff member: `staff_client(roles=[...], school=...)`."""

    def make(roles=("admin",), **fields):
        staff = StaffFactory(roles=list(roles), **fields)
        client = client_for(staff.user)
        client.staff = staff
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {client.tokens['access']}",
            HTTP_USER_AGENT=USER_AGENT,
            HTTP_X_REQUEST_ID=REQUEST_ID,
        )
        return client

    return make
