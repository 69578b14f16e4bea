"""Shared pieces of the events views: examples, lookups and payload builders."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from events import selectors
from events.models import HOLDS_PLACE, Event, Signup, SignupStatus
from guardians.selectors import guardian_for_user, staff_for_user

TAG_EVENTS = "Events"
TAG_SIGNUPS = "Event sign-ups and consent"
TAG_STAFF = "Event staff tools"
TAG_LINKS = "Event email links"
TAG_NOTICES = "Notifications and announcements"
TAG_ABSENCES = "Absence notes"

FORM_HASH = "9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d"
FORM_EXAMPLE = {
    "version": 1,
    "hash": FORM_HASH,
    "body": "Year 4 will visit the Australian Museum by bus. Students need a hat and a packed lunch.",
    "statement": "I give permission for my child to attend, and for staff to seek medical help if needed.",
    "questions": [
        {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "required": False, "choices": []},
        {"key": "photo_ok", "label": "May the school publish photos of your child?", "type": "yes_no", "required": True, "choices": []},
    ],
}
SIGNUP_EXAMPLE = {
    "id": 31,
    "event_id": 5,
    "student_id": 7,
    "student_first_name": "Mia",
    "status": "awaiting_payment",
    "created_at": "2026-11-28T03:00:00Z",
    "payment_due_at": "2026-12-04T06:00:00Z",
    "amount_due": 2500,
    "amount_paid": 0,
    "refunded_amount": 0,
    "payment_method": "none",
    "paid_at": None,
    "consent_id": 12,
    "attendance": "",
}
EVENT_EXAMPLE = {
    "id": 5,
    "school_id": 1,
    "title": "Year 4 museum excursion",
    "description": "A day at the Australian Museum.",
    "kind": "excursion",
    "location": "Australian Museum, Sydney",
    "starts_at": "2026-12-10T22:30:00Z",
    "ends_at": "2026-12-11T05:00:00Z",
    "signup_deadline": "2026-12-04T06:00:00Z",
    "time_zone": "Australia/Sydney",
    "cost": 2500,
    "currency": "AUD",
    "capacity": 60,
    "waitlist_capacity": None,
    "refund_percent": 100,
    "offer_window_hours": 48,
    "reminder_hours_before_deadline": 48,
    "eligible_year_levels": [4],
    "eligible_classes": [],
    "status": "published",
    "published_at": "2026-11-28T02:00:00Z",
    "cancelled_at": None,
    "cancel_reason": "",
    "consent_form": FORM_EXAMPLE,
    "places": {"capacity": 60, "taken": 41, "left": 19, "waitlisted": 0},
    "children": [{"student_id": 7, "first_name": "Mia", "eligible": True, "can_give_consent": True, "signup": SIGNUP_EXAMPLE}],
}
EVENT_INPUT_EXAMPLE = {
    "title": "Year 4 museum excursion",
    "description": "A day at the Australian Museum.",
    "kind": "excursion",
    "location": "Australian Museum, Sydney",
    "starts_at": "2026-12-11T09:30:00+11:00",
    "ends_at": "2026-12-11T16:00:00+11:00",
    "signup_deadline": "2026-12-04T17:00:00+11:00",
    "cost": 2500,
    "capacity": 60,
    "eligible_year_levels": [4],
    "consent_form": {
        "body": FORM_EXAMPLE["body"],
        "statement": FORM_EXAMPLE["statement"],
        "questions": FORM_EXAMPLE["questions"],
    },
}


def event_payload(event: Event, user) -> Event:
    """Decorate an event with its places and, for a guardian, their children's standing."""
    counts = {status: 0 for status in SignupStatus.values}
    for status in Signup.objects.filter(event=event).values_list("status", flat=True):
        counts[status] += 1
    taken = sum(counts[status] for status in HOLDS_PLACE)
    event.places = {"capacity": event.capacity, "taken": taken, "left": max(0, event.capacity - taken), "waitlisted": counts[SignupStatus.WAITLISTED]}
    guardian = guardian_for_user(user) if user is not None else None
    event.children = selectors.guardian_children_for_event(event, guardian) if guardian else []
    return event


def staff_event(request, event_id: int) -> Event:
    """An event of the caller's own school, or 404."""
    staff = staff_for_user(request.user)
    if staff is None:
        raise Http404
    return get_object_or_404(selectors.staff_events(staff), pk=event_id)


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:45]
