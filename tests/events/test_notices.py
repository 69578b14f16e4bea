"""Announcements to a school, year, class or event; the notification feed with unread counts and email choices;
absence notes with the `absence_reported` signal."""

from datetime import timedelta

import pytest
from django.core import mail

from core import school_time
from core.models import Notification
from guardians.models import AbsenceNote
from guardians.signals import absence_reported
from tests.events.conftest import family, make_event, sign
from tests.factories import GuardianLinkFactory, StaffFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def _post(client, **body):
    return client.post("/api/v1/announcements", {"title": "Bring a hat", "body": "Hats on Thursday, please.", **body}, format="json")


def test_an_announcement_reaches_the_audience_in_the_feed_and_by_email(world, client_for, django_capture_on_commit_callbacks):
    class_4a = family(world.school, roll_class="4A")
    family(world.school, roll_class="5C", year_level=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client_for(world.teacher.user), audience="class", roll_class="4A")

    assert response.status_code == 201, response.json()
    assert response.json()["recipient_count"] == 1
    parent = client_for(class_4a.guardian.user)
    assert parent.get("/api/v1/notifications/unread-count").json() == {"unread": 1}
    feed = parent.get("/api/v1/notifications").json()["results"]
    assert [(item["kind"], item["title"], item["read_at"]) for item in feed] == [("announcement", "Bring a hat", None)]
    assert [message.to for message in mail.outbox] == [[class_4a.guardian.user.email]]

    marked = parent.post("/api/v1/notifications/read", {"ids": [feed[0]["id"]]}, format="json")
    assert marked.json() == {"marked": 1, "unread": 0}
    assert client_for(world.link.guardian.user).get("/api/v1/notifications").json()["results"] == []


def test_year_level_school_and_event_audiences(world, client_for):
    event = make_event(world.admin, cost=0)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    family(world.school, year_level=4)
    client = client_for(world.admin.user)
    assert _post(client, audience="year_level", year_level=4).json()["recipient_count"] == 2
    assert _post(client, audience="school").json()["recipient_count"] == 2
    assert _post(client, audience="event", event_id=event.pk).json()["recipient_count"] == 1
    assert_problem(_post(client, audience="year_level"), 422, "audience_invalid")
    assert_problem(_post(client, audience="event", event_id=make_event(StaffFactory()).pk), 422, "audience_invalid")
    assert_problem(_post(client_for(world.canteen.user), audience="school"), 403, "permission_denied")


def test_mark_all_read_and_email_choices(world, client_for, django_capture_on_commit_callbacks):
    parent = client_for(world.link.guardian.user)
    choices = parent.patch("/api/v1/me/notification-preferences", {"preferences": [{"kind": "announcement", "by_email": False}]}, format="json")
    assert choices.status_code == 200
    assert {"kind": "announcement", "label": "Announcements from the school", "by_email": False} in choices.json()
    assert_problem(parent.patch("/api/v1/me/notification-preferences", {"preferences": [{"kind": "spam", "by_email": True}]}, format="json"), 400, "validation_error")

    with django_capture_on_commit_callbacks(execute=True):
        _post(client_for(world.admin.user), audience="school")
        _post(client_for(world.admin.user), audience="school", title="Second")

    assert mail.outbox == []
    assert parent.get("/api/v1/notifications/unread-count").json() == {"unread": 2}
    assert parent.post("/api/v1/notifications/read", {}, format="json").json() == {"marked": 2, "unread": 0}


def test_an_absence_note_sends_the_signal_after_commit(world, client_for, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, absence_note_id, student_id, dates, **kwargs):
        received.append((absence_note_id, student_id, dates))

    absence_reported.connect(receiver)
    try:
        today = school_time.school_today(world.school)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client_for(world.link.guardian.user).post(
                f"/api/v1/students/{world.student.pk}/absences",
                {"first_day": today.isoformat(), "last_day": (today + timedelta(days=1)).isoformat(), "reason": "illness", "details": "Gastro"},
                format="json",
            )
            assert received == []  # not before commit
        for callback in callbacks:
            callback()
    finally:
        absence_reported.disconnect(receiver)

    assert response.status_code == 201, response.json()
    note = AbsenceNote.objects.get()
    assert received == [(note.pk, world.student.pk, [today, today + timedelta(days=1)])]
    assert response.json()["reason"] == "illness" and response.json()["acknowledged_at"] is None


def test_staff_see_and_acknowledge_absences_of_their_school_only(world, client_for):
    today = school_time.school_today(world.school)
    note = client_for(world.link.guardian.user).post(f"/api/v1/students/{world.student.pk}/absences", {"first_day": today.isoformat(), "reason": "medical_appointment"}, format="json").json()
    teacher = client_for(world.teacher.user)

    listed = teacher.get(f"/api/v1/absences?day={today.isoformat()}&unacknowledged=true").json()["results"]
    assert [item["id"] for item in listed] == [note["id"]]
    acknowledged = teacher.post(f"/api/v1/absences/{note['id']}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"] is not None
    assert teacher.get("/api/v1/absences?unacknowledged=true").json()["results"] == []
    assert Notification.objects.filter(kind="absence_acknowledged", user=world.link.guardian.user).count() == 1
    assert client_for(StaffFactory(roles=["admin"]).user).post(f"/api/v1/absences/{note['id']}/acknowledge").status_code == 404
    assert client_for(GuardianLinkFactory().guardian.user).get("/api/v1/absences").json()["results"] == []


def test_bad_absence_dates_and_strangers_are_refused(world, client_for):
    today = school_time.school_today(world.school)
    client = client_for(world.link.guardian.user)
    backwards = client.post(f"/api/v1/students/{world.student.pk}/absences", {"first_day": today.isoformat(), "last_day": (today - timedelta(days=1)).isoformat(), "reason": "illness"}, format="json")
    assert_problem(backwards, 422, "absence_dates_invalid")
    stranger = client_for(GuardianLinkFactory().guardian.user).post(f"/api/v1/students/{world.student.pk}/absences", {"first_day": today.isoformat(), "reason": "illness"}, format="json")
    assert_problem(stranger, 404, "not_found")
    assert AbsenceNote.objects.count() == 0
