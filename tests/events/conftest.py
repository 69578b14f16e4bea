"""Shared set-ups for event tests: a school with staff, a family, and helpers to make events and sign them."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core import clock
from events import services
from events.models import Event
from guardians.models import GuardianLink, School, StaffMember, Student
from tests.factories import GuardianLinkFactory, SchoolFactory, StaffFactory, StudentFactory

SIGNATURE = {"width": 600, "height": 200, "strokes": [[[40, 150], [60, 90], [95, 140], [130, 70]], [[160, 120], [240, 118]]]}
FORM = {
    "body": "Year 4 will visit the Australian Museum by bus. Bring a hat and a packed lunch.",
    "statement": "I give permission for my child to attend, and for staff to seek medical help if needed.",
    "questions": [
        {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "required": False},
        {"key": "photo_ok", "label": "May we publish photos?", "type": "yes_no", "required": True},
        {"key": "lunch", "label": "Lunch", "type": "choice", "required": False, "choices": ["packed", "canteen"]},
    ],
}
ANSWERS = {"allergies": "Peanuts (EpiPen in bag)", "photo_ok": True, "lunch": "packed"}


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process here; the PostgreSQL run has REDIS_URL set, which would otherwise queue them."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EVENTS_PUBLIC_BASE_URL = "https://tuckbox.test"
    # The local gateway that answers like Stripe and delivers signed webhook events (no network).
    settings.PAYMENT_GATEWAY = "fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_events_tests"


@dataclass
class School_:
    school: School
    admin: StaffMember
    teacher: StaffMember
    canteen: StaffMember
    link: GuardianLink  # a parent of `student`, with both permissions
    student: Student


@pytest.fixture
def world(db) -> School_:
    school = SchoolFactory()
    student = StudentFactory(school=school, year_level=4, roll_class="4B", first_name="Mia")
    return School_(
        school=school,
        admin=StaffFactory(school=school, roles=["admin"]),
        teacher=StaffFactory(school=school, roles=["teacher"]),
        canteen=StaffFactory(school=school, roles=["canteen", "finance"]),
        link=GuardianLinkFactory(student=student),
        student=student,
    )


def event_fields(**overrides) -> dict:
    now = clock.now()
    fields = dict(
        title="Museum excursion",
        description="A day at the museum.",
        kind="excursion",
        location="Australian Museum",
        starts_at=now + timedelta(days=14),
        ends_at=now + timedelta(days=14, hours=6),
        signup_deadline=now + timedelta(days=7),
        cost=2500,
        capacity=30,
        eligible_year_levels=[4],
    )
    fields.update(overrides)
    return fields


def make_event(staff: StaffMember, *, publish: bool = True, form: dict | None = None, **overrides) -> Event:
    event = services.event_create(staff=staff, form=form or FORM, **event_fields(**overrides))
    if publish:
        event, _ = services.event_publish(event_id=event.pk, staff=staff)
    event.refresh_from_db()
    return event


def signup_body(event: Event, student_id: int, **overrides) -> dict:
    body = {
        "student_id": student_id,
        "form_hash": event.consent_form.content_hash,
        "answers": ANSWERS,
        "signature": SIGNATURE,
        "typed_name": "Olivia Nguyen",
        "consent_statement_accepted": True,
    }
    body.update(overrides)
    return body


def sign(client, event: Event, student_id: int, **overrides):
    return client.post(f"/api/v1/events/{event.pk}/signups", signup_body(event, student_id, **overrides), format="json", HTTP_USER_AGENT="pytest-browser/1.0")


def family(school: School, **student_fields) -> GuardianLink:
    """Another student of the school with a parent linked."""
    return GuardianLinkFactory(student=StudentFactory(school=school, **{"year_level": 4, "roll_class": "4A", **student_fields}))


@pytest.fixture
def signed(world, client_for) -> Event:
    """An event two families have signed consent for: `world`'s and another of the school."""
    event = make_event(world.admin)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    second = family(world.school)
    sign(client_for(second.guardian.user), event, second.student_id)
    return event
