"""Rosters (JSON, CSV, PDF) with medical answers only for the roles allowed them, reminders, and attendance."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from core.models import Notification
from events.models import Signup, SignupStatus
from events.tasks import send_due_reminders
from tests.events.conftest import family, make_event, sign
from tests.factories import GuardianLinkFactory, StaffFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster_event(world, client_for):
    """Mia signed (medical answer given), Leo declined, Ava has not answered."""
    event = make_event(world.admin, cost=0)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    leo = family(world.school, first_name="Leo", last_name="Park")
    client_for(leo.guardian.user).post(f"/api/v1/events/{event.pk}/declines", {"student_id": leo.student_id}, format="json")
    ava = family(world.school, first_name="Ava", last_name="Zed")
    return event, leo, ava


def test_the_roster_shows_medical_answers_to_teachers(world, client_for, roster_event):
    event, leo, ava = roster_event
    response = client_for(world.teacher.user).get(f"/api/v1/events/{event.pk}/roster")

    assert response.status_code == 200
    body = response.json()
    assert body["medical_visible"] is True
    assert body["counts"]["confirmed"] == 1 and body["counts"]["declined"] == 1 and body["counts"]["not_responded"] == 1
    assert body["counts"]["places_left"] == 29
    mia = next(row for row in body["rows"] if row["student"]["id"] == world.student.pk)
    assert mia["status"] == "confirmed"
    assert mia["consent"]["typed_name"] == "Olivia Nguyen"
    assert mia["answers"][0] == {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "answer": "Peanuts (EpiPen in bag)", "withheld": False}
    assert [student["id"] for student in body["not_responded"]] == [ava.student_id]


def test_canteen_and_finance_see_the_roster_without_medical_answers(world, client_for, roster_event):
    event, _, _ = roster_event
    client = client_for(world.canteen.user)

    body = client.get(f"/api/v1/events/{event.pk}/roster").json()
    assert body["medical_visible"] is False
    mia = next(row for row in body["rows"] if row["student"]["id"] == world.student.pk)
    assert mia["answers"][0] == {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "answer": None, "withheld": True}
    assert mia["answers"][1]["answer"] is True

    csv_response = client.get(f"/api/v1/events/{event.pk}/roster.csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    mia_row = next(row for row in rows if row["first_name"] == "Mia")
    assert mia_row["q:allergies"] == "(withheld)" and mia_row["q:photo_ok"] == "yes" and mia_row["status"] == "confirmed"
    assert "Peanuts" not in csv_response.content.decode()
    assert {row["status"] for row in rows} == {"confirmed", "declined", "not_responded"}

    pdf = client.get(f"/api/v1/events/{event.pk}/roster.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_csv_keeps_a_formula_as_text(world, client_for):
    event = make_event(world.admin, cost=0)
    sign(client_for(world.link.guardian.user), event, world.student.pk, answers={"photo_ok": True, "allergies": "=HYPERLINK(\"x\")"})
    text = client_for(world.admin.user).get(f"/api/v1/events/{event.pk}/roster.csv").content.decode()
    assert "'=HYPERLINK" in text


def test_the_roster_is_staff_only_and_school_only(world, client_for, roster_event):
    event, _, _ = roster_event
    assert_problem(client_for(world.link.guardian.user).get(f"/api/v1/events/{event.pk}/roster"), 403, "permission_denied")
    assert_problem(client_for(StaffFactory().user).get(f"/api/v1/events/{event.pk}/roster"), 404, "not_found")


def test_reminders_go_to_families_who_have_not_answered_once_a_day(world, client_for, roster_event, django_capture_on_commit_callbacks):
    event, leo, ava = roster_event
    money_only = GuardianLinkFactory(student=ava.student, can_give_consent=False)
    client = client_for(world.teacher.user)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/api/v1/events/{event.pk}/reminders")
    again = client.post(f"/api/v1/events/{event.pk}/reminders")

    assert first.json() == {"guardians_reminded": 1}
    assert again.json() == {"guardians_reminded": 0}
    assert list(Notification.objects.filter(kind="event_reminder").values_list("user_id", flat=True)) == [ava.guardian.user_id]
    assert not Notification.objects.filter(kind="event_reminder", user=money_only.guardian.user).exists()
    assert [message.to for message in mail.outbox if message.subject.startswith("Reminder")] == [[ava.guardian.user.email]]


def test_unpaid_places_are_reminded_to_pay(world, client_for):
    event = make_event(world.admin)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    assert client_for(world.admin.user).post(f"/api/v1/events/{event.pk}/reminders").json() == {"guardians_reminded": 1}
    notice = Notification.objects.get(kind="event_reminder")
    assert "pay $25.00" in notice.body


def test_the_automatic_reminder_goes_once_at_its_time(world):
    event = make_event(world.admin, cost=0, reminder_hours_before_deadline=24)
    family(world.school)
    assert send_due_reminders() == 0
    with time_machine.travel(event.signup_deadline - timedelta(hours=23)):
        assert send_due_reminders() == 2
        assert send_due_reminders() == 0
    with time_machine.travel(event.signup_deadline + timedelta(hours=1)):
        assert send_due_reminders() == 0


def test_attendance_is_marked_on_the_day_for_confirmed_students(world, client_for):
    event = make_event(world.admin, cost=0)
    signup_id = sign(client_for(world.link.guardian.user), event, world.student.pk).json()["id"]
    body = {"marks": [{"signup_id": signup_id, "attendance": "present"}]}

    early = client_for(world.teacher.user).post(f"/api/v1/events/{event.pk}/attendance", body, format="json")
    assert_problem(early, 422, "attendance_not_open")
    with time_machine.travel(event.starts_at + timedelta(minutes=10)):
        marked = client_for(world.teacher.user).post(f"/api/v1/events/{event.pk}/attendance", body, format="json")
        assert_problem(client_for(world.canteen.user).post(f"/api/v1/events/{event.pk}/attendance", body, format="json"), 403, "permission_denied")

    assert marked.status_code == 200, marked.json()
    assert marked.json()[0]["attendance"] == "present"
    signup = Signup.objects.get(pk=signup_id)
    assert signup.attendance == "present" and signup.attendance_marked_by == world.teacher.user
    assert signup.status == SignupStatus.CONFIRMED
