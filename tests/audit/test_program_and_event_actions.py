"""Program administrators' and event staff's decisions, recorded by the services that make them."""

import pytest

from audit.models import AuditEntry
from events import services as events
from tests.audit.conftest import only_row
from tests.events.conftest import make_event
from tests.factories import MerchantFactory, ProgramAdministratorFactory, StaffFactory
from tests.vouchers.factories import approve, make_program
from vouchers import services as vouchers

pytestmark = pytest.mark.django_db


def test_suspending_a_provider_records_the_status_and_reason_before_and_after():
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)
    approval = approve(program, MerchantFactory(categories=["sport"]))

    vouchers.provider_decide(approval=approval, decided_by=admin.user, decision="suspend", reason="Complaint under review")
    vouchers.provider_decide(approval=approval, decided_by=admin.user, decision="suspend", reason="again")  # no change: no row

    row = only_row(action="provider.suspend")
    assert (row.before, row.after) == ({"status": "approved", "reason": ""}, {"status": "suspended", "reason": "Complaint under review"})
    assert (row.object_type, row.object_id, row.program_id, row.school_id) == ("vouchers.provider_approval", str(approval.pk), program.pk, None)
    assert (row.actor_kind, row.actor_user_id, row.details) == ("program_admin", admin.user_id, {"merchant_id": approval.merchant_id})


def test_an_event_change_and_its_cancellation_are_recorded_with_their_values():
    staff = StaffFactory(roles=["admin"])
    event = make_event(staff)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["event.create", "event.publish"]

    events.event_update(event_id=event.pk, staff=staff, capacity=40, location="Australian Museum")
    events.event_cancel(event_id=event.pk, staff=staff, reason="Storm warning")

    update = only_row(action="event.update")
    assert (update.before, update.after, update.school_id) == ({"capacity": 30}, {"capacity": 40}, staff.school_id)
    cancel = only_row(action="event.cancel")
    assert cancel.before == {"status": "published"}
    assert cancel.after == {"status": "cancelled", "cancel_reason": "Storm warning"}
    assert cancel.details == {"signups_cancelled": 0}
    assert (cancel.actor_kind, cancel.actor_user_id, cancel.capture) == ("school_staff", staff.user_id, "service")
