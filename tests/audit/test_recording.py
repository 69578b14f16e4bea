"""Staff, administrator and terminal actions leave one audit row each, with the changed fields
before and after, who acted, and where the request came from."""

import uuid

import pytest
import time_machine

from audit.models import AuditEntry
from canteen.models import Order
from tests.audit.conftest import REQUEST_ID, USER_AGENT, only_row
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory, StudentFactory, give_card_money
from wallet import cards
from wallet.models import CardChargeRefund

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.24"


@pytest.fixture
def canteen(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield make_canteen(client_for)


def test_a_menu_item_change_records_the_changed_fields_before_and_after_and_where_it_came_from(canteen, staff_client):
    cook = staff_client(roles=["canteen"], school=canteen.school)
    answer = cook.patch(
        f"/api/v1/canteen/menu-items/{canteen.wrap.pk}",
        {"price": 700, "name": "Chicken wrap"},
        format="json",
        REMOTE_ADDR=CLIENT_IP,
        HTTP_X_FORWARDED_FOR="192.0.2.99",  # written by the client: proves nothing, so not recorded as its address
    )

    assert answer.status_code == 200, answer.content
    row = only_row(action="canteen.menu_item_update")
    assert (row.object_type, row.object_id, row.school_id) == ("canteen.menu_item", str(canteen.wrap.pk), canteen.school.pk)
    assert (row.before, row.after) == ({"price": 650}, {"price": 700})  # the unchanged name is not listed
    assert (row.actor_kind, row.actor_user_id, row.actor_roles) == ("school_staff", cook.staff.user_id, ["canteen"])
    assert (row.request_id, row.ip_address, row.user_agent, row.capture) == (REQUEST_ID, CLIENT_IP, USER_AGENT, "service")
    assert answer["X-Request-ID"] == REQUEST_ID


def test_canteen_settings_record_old_and_new_values(canteen, staff_client):
    admin = staff_client(roles=["admin"], school=canteen.school)
    answer = admin.patch("/api/v1/canteen/settings", {"canteen_cutoff": "09:15:00", "max_weeks_ahead": 6}, format="json")

    assert answer.status_code == 200, answer.content
    row = only_row(action="canteen.settings_update")
    assert row.before == {"canteen_cutoff": "08:30:00", "max_weeks_ahead": canteen.settings.max_weeks_ahead}
    assert row.after == {"canteen_cutoff": "09:15:00", "max_weeks_ahead": 6}


def test_a_staff_refund_is_recorded_in_the_same_transaction_as_the_money(canteen, staff_client):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        placed = canteen.order([(canteen.wrap, 1)])
        assert placed.status_code == 201, placed.content
        cook = staff_client(roles=["canteen"], school=canteen.school)
        order_id = placed.json()["id"]
        refunded = cook.post(f"/api/v1/canteen/orders/{order_id}/refund", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    assert refunded.status_code == 200, refunded.content
    row = only_row(action="canteen.order_refund")
    order = Order.objects.get(pk=order_id)
    assert (row.before, row.after) == ({"status": "placed"}, {"status": "refunded"})
    assert row.details == {"amount": 650, "receipt_number": order.receipt_number, "hold_id": order.hold_id, "hold_voided": True}
    assert (row.object_id, row.school_id, row.actor_user_id) == (str(order_id), canteen.school.pk, cook.staff.user_id)
    # The guardian's own order was not an audit event.
    assert AuditEntry.objects.count() == 1


def test_card_issue_records_the_last_four_digits_never_the_card_number_or_its_hash(staff_client):
    student = StudentFactory()
    admin = staff_client(roles=["admin"], school=student.school)
    answer = admin.post(f"/api/v1/students/{student.pk}/cards", {"identifier": "04A1B2C3D4E5F6"}, format="json")

    assert answer.status_code == 201, answer.content
    row = only_row(action="card.issue")
    assert row.after == {"student_id": student.pk, "status": "active", "identifier_last4": "E5F6"}
    stored = str(AuditEntry.objects.filter(pk=row.pk).values().get())
    assert "04A1B2C3D4E5F6" not in stored and cards.card_identifier_hash("04A1B2C3D4E5F6") not in stored


def test_a_failed_action_leaves_no_row(staff_client):
    student = StudentFactory()
    StudentCardFactory(identifier="04A1B2C3D4E5F6")
    admin = staff_client(roles=["admin"], school=student.school)

    answer = admin.post(f"/api/v1/students/{student.pk}/cards", {"identifier": "04A1B2C3D4E5F6"}, format="json")

    assert answer.status_code == 409, answer.content
    assert not AuditEntry.objects.exists()


def test_a_terminal_refund_is_recorded_with_the_terminal_as_actor(terminal_client):
    student = StudentFactory()
    StudentCardFactory(student=student, identifier="CARD00000042")
    give_card_money(student, 1000)
    merchant = MerchantFactory(school=student.school)
    till = terminal_client(merchant)
    charge = till.post(
        "/api/v1/terminal/charges",
        {"card_identifier": "CARD00000042", "amount": 400, "categories": ["canteen"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sale-1",
    )
    assert charge.status_code == 201, charge.content
    assert not AuditEntry.objects.exists()  # a sale is the terminal's everyday business, not an audit event

    refund = till.post(f"/api/v1/terminal/charges/{charge.json()['charge_id']}/refunds", {"amount": 150}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")

    assert refund.status_code == 201, refund.content
    row = only_row(action="card.charge_refund")
    assert (row.actor_kind, row.actor_terminal_id, row.actor_merchant_id, row.actor_user_id) == ("terminal", till.terminal.pk, merchant.pk, None)
    assert (row.before, row.after, row.school_id) == ({"refunded_amount": 0}, {"refunded_amount": 150}, student.school_id)
    posted = CardChargeRefund.objects.get()
    assert row.details == {"amount": 150, "refund_id": posted.pk, "refund_transaction_id": posted.transaction_id}


def test_a_replayed_request_records_nothing_more(terminal_client):
    student = StudentFactory()
    StudentCardFactory(student=student, identifier="CARD00000043")
    give_card_money(student, 1000)
    till = terminal_client(MerchantFactory(school=student.school))
    charge = till.post(
        "/api/v1/terminal/charges", {"card_identifier": "CARD00000043", "amount": 400, "categories": ["canteen"]}, format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    url = f"/api/v1/terminal/charges/{charge.json()['charge_id']}/refunds"
    for _ in range(2):
        assert till.post(url, {"amount": 100}, format="json", HTTP_IDEMPOTENCY_KEY="r").status_code == 201

    assert AuditEntry.objects.filter(action="card.charge_refund").count() == 1


def test_link_revocation_by_staff_is_recorded_and_by_the_guardian_themselves_is_not(staff_client, client_for):
    own = GuardianLinkFactory()
    assert client_for(own.guardian.user).delete(f"/api/v1/links/{own.pk}").status_code == 204
    assert not AuditEntry.objects.exists()

    link = GuardianLinkFactory()
    admin = staff_client(roles=["admin"], school=link.student.school)
    assert admin.delete(f"/api/v1/links/{link.pk}").status_code == 204

    row = only_row(action="guardian_link.revoke")
    link.refresh_from_db()
    assert row.before == {"revoked_at": None}
    assert row.after == {"revoked_at": link.revoked_at.isoformat(), "revoked_by_user_id": admin.staff.user_id}
    assert (row.object_id, row.school_id) == (str(link.pk), link.student.school_id)


def test_a_staff_write_no_service_records_is_captured_after_its_answer(staff_client):
    teacher = staff_client(roles=["teacher"])
    body = {"audience": "school", "title": "Sports day", "body": "Hats and water bottles, please."}
    answer = teacher.post("/api/v1/announcements", body, format="json", REMOTE_ADDR=CLIENT_IP)

    assert answer.status_code == 201, answer.content
    row = only_row()
    assert (row.action, row.capture, row.school_id, row.actor_roles) == ("post announcements", "request", teacher.staff.school_id, ["teacher"])
    assert (row.before, row.after, row.details) == ({}, {}, {"path_parameters": {}, "status": 201})
    assert (row.request_id, row.ip_address) == (REQUEST_ID, CLIENT_IP)


def test_a_refused_staff_request_records_nothing(staff_client):
    canteen = staff_client(roles=["canteen"])  # announcements are for admins and teachers
    body = {"audience": "school", "title": "Sports day", "body": "Hats and water bottles, please."}
    assert canteen.post("/api/v1/announcements", body, format="json").status_code == 403
    assert not AuditEntry.objects.exists()
