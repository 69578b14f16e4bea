"""Staff create and publish an event; eligible families hear of it in the app and by a signed email link."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from core import clock
from core.models import Notification, NotificationPreference
from events.models import ConsentFormVersion, Event, EventStatus
from tests.events.conftest import FORM, event_fields, family, make_event
from tests.factories import StaffFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https://tuckbox\.test(/api/v1/event-links/[^\s]+)")


def _create_body(**overrides):
    fields = event_fields(**overrides)
    body = {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in fields.items()}
    body["consent_form"] = FORM
    return body


def test_staff_create_a_draft_with_a_hashed_form_version(world, client_for):
    response = client_for(world.teacher.user).post("/api/v1/events", _create_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["cost"] == 2500 and body["currency"] == "AUD"
    version = ConsentFormVersion.objects.get(event_id=body["id"])
    assert body["consent_form"]["hash"] == version.content_hash and len(version.content_hash) == 64
    assert body["consent_form"]["questions"][0] == {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "required": False, "choices": []}
    assert body["places"] == {"capacity": 30, "taken": 0, "left": 30, "waitlisted": 0}
    assert Notification.objects.count() == 0


def test_a_past_deadline_or_bad_form_is_refused_and_nothing_is_written(world, client_for):
    client = client_for(world.admin.user)
    past = client.post("/api/v1/events", _create_body(signup_deadline=clock.now() - timedelta(hours=1)), format="json")
    assert_problem(past, 422, "signup_deadline_passed")
    choice_without_choices = {**FORM, "questions": [{"key": "bus", "label": "Bus?", "type": "choice"}]}
    bad_form = client.post("/api/v1/events", {**_create_body(), "consent_form": choice_without_choices}, format="json")
    assert_problem(bad_form, 422, "consent_form_invalid")
    assert Event.objects.count() == 0


def test_canteen_staff_cannot_create_events(world, client_for):
    response = client_for(world.canteen.user).post("/api/v1/events", _create_body(), format="json")
    assert_problem(response, 403, "permission_denied")


def test_publishing_notifies_eligible_guardians_with_a_working_signed_link(world, client_for, api_client, django_capture_on_commit_callbacks):
    other_year = family(world.school, year_level=6, roll_class="6C")
    event = make_event(world.admin, publish=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.admin.user).post(f"/api/v1/events/{event.pk}/publish")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "published"
    assert response.json()["guardians_notified"] == 1
    parent = world.link.guardian.user
    notice = Notification.objects.get(user=parent)
    assert notice.kind == "event_published" and notice.data == {"event_id": event.pk, "student_ids": [world.student.pk]}
    assert not Notification.objects.filter(user=other_year.guardian.user).exists()
    assert [message.to for message in mail.outbox] == [[parent.email]]
    path = LINK.search(mail.outbox[0].body).group(1)

    details = api_client.get(path)

    assert details.status_code == 200, details.json()
    assert details.json()["event"]["title"] == "Museum excursion"
    assert details.json()["children"] == [{"student_id": world.student.pk, "first_name": "Mia", "eligible": True, "signup": None}]


def test_a_tampered_or_expired_link_is_refused(world, api_client):
    from events.links import event_link_token

    token = event_link_token(event_id=make_event(world.admin).pk, user_id=world.link.guardian.user_id)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_problem(api_client.get(f"/api/v1/event-links/{tampered}"), 403, "event_link_invalid")
    forged_payload = api_client.get(f"/api/v1/event-links/{token.replace(token.split(':')[0], 'eyJlIjoxLCJ1IjoxfQ')}")
    assert_problem(forged_payload, 403, "event_link_invalid")
    with time_machine.travel(clock.now() + timedelta(days=31)):
        assert_problem(api_client.get(f"/api/v1/event-links/{token}"), 403, "event_link_expired")


def test_a_link_stops_working_when_the_guardian_is_unlinked(world, api_client):
    from events.links import event_link_token

    token = event_link_token(event_id=make_event(world.admin).pk, user_id=world.link.guardian.user_id)
    world.link.revoked_at = clock.now()
    world.link.save()
    assert_problem(api_client.get(f"/api/v1/event-links/{token}"), 403, "event_link_invalid")


def test_a_guardian_who_turned_off_event_emails_still_sees_it_in_the_app(world, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=world.link.guardian.user, kind="event_published", by_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_event(world.admin)
    assert Notification.objects.filter(user=world.link.guardian.user, kind="event_published").count() == 1
    assert mail.outbox == []


def test_publishing_twice_is_refused(world, client_for):
    event = make_event(world.admin)
    assert_problem(client_for(world.admin.user).post(f"/api/v1/events/{event.pk}/publish"), 409, "event_state_invalid")


def test_guardians_see_only_eligible_events_and_staff_only_their_school(world, client_for):
    event = make_event(world.admin)
    make_event(world.admin, title="Year 6 camp", eligible_year_levels=[6])
    make_event(world.admin, title="Still a draft", publish=False)
    other_school_staff = StaffFactory()

    guardian_view = client_for(world.link.guardian.user).get("/api/v1/events").json()["results"]
    assert [item["id"] for item in guardian_view] == [event.pk]
    assert guardian_view[0]["children"][0]["can_give_consent"] is True
    assert len(client_for(world.admin.user).get("/api/v1/events").json()["results"]) == 3
    assert client_for(other_school_staff.user).get(f"/api/v1/events/{event.pk}").status_code == 404


def test_a_changed_form_is_a_new_version_and_an_unchanged_one_is_not(world, client_for):
    event = make_event(world.admin)
    client = client_for(world.admin.user)
    same = client.patch(f"/api/v1/events/{event.pk}", {"consent_form": FORM}, format="json")
    assert same.json()["consent_form"]["version"] == 1
    changed = client.patch(f"/api/v1/events/{event.pk}", {"consent_form": {**FORM, "body": FORM["body"] + " Sunscreen too."}}, format="json")
    assert changed.status_code == 200
    assert changed.json()["consent_form"]["version"] == 2
    assert changed.json()["consent_form"]["hash"] != same.json()["consent_form"]["hash"]
    assert ConsentFormVersion.objects.filter(event=event).count() == 2
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


def test_times_without_an_offset_are_the_schools_wall_clock(world, client_for):
    body = _create_body()
    body.update(starts_at="2027-03-10T09:30:00", ends_at="2027-03-10T15:00:00", signup_deadline="2027-03-03T17:00:00+11:00")
    response = client_for(world.admin.user).post("/api/v1/events", body, format="json")
    assert response.status_code == 201, response.json()
    # Sydney is on daylight time (UTC+11) in March.
    assert response.json()["starts_at"] == "2027-03-09T22:30:00Z"
    assert response.json()["signup_deadline"] == "2027-03-03T06:00:00Z"


def test_a_wall_clock_time_the_clocks_skip_is_refused(world, client_for):
    body = _create_body()
    # Sydney's clocks jump from 02:00 to 03:00 on Sunday 3 October 2027: 02:30 never happens.
    body.update(starts_at="2027-10-03T02:30:00", ends_at="2027-10-03T15:00:00", signup_deadline="2027-09-20T17:00:00")
    response = client_for(world.admin.user).post("/api/v1/events", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "nonexistent_local_time"
    assert not Event.objects.exists()
