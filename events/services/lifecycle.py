"""Staff create, change, publish and cancel events."""

from zoneinfo import ZoneInfo

from django.db import transaction

from audit.services import audit_record, changed_fields, snapshot
from core import clock, school_time
from core.jobs import enqueue_after_commit
from core.locks import lock_one
from events import notices
from events.consent_forms import form_content_hash, form_content_normalise
from events.errors import CapacityBelowTaken, EventInvalid, EventStateInvalid, SignupDeadlinePassed
from events.models import HOLDS_PLACE, LIVE, ConsentFormVersion, Event, EventStatus, Signup, SignupStatus
from events.rules import eligible_students_q, signups_open
from events.services.places import offer_places_locked
from guardians.models import StaffMember, Student, User

EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "location",
    "starts_at",
    "ends_at",
    "signup_deadline",
    "cost",
    "capacity",
    "waitlist_capacity",
    "refund_percent",
    "offer_window_hours",
    "reminder_hours_before_deadline",
    "eligible_year_levels",
    "eligible_classes",
)


TIME_FIELDS = ("starts_at", "ends_at", "signup_deadline")


def _place_in_school_zone(fields: dict, school) -> dict:
    """Times given without an offset are the school's wall clock: one the clocks skip is refused
    (`nonexistent_local_time`), one that happens twice is its first occurrence (guardians/school_time.py)."""
    zone = ZoneInfo(school.time_zone)
    return {
        name: (school_time.wall_clock_instant(zone, value) if name in TIME_FIELDS and value is not None and value.tzinfo is None else value)
        for name, value in fields.items()
    }


def _check_fields(event: Event) -> None:
    if event.ends_at < event.starts_at:
        raise EventInvalid("The event ends before it starts.", field="ends_at")
    if event.signup_deadline > event.starts_at:
        raise EventInvalid("The sign-up deadline is after the event starts.", field="signup_deadline")
    if not 0 <= event.refund_percent <= 100:
        raise EventInvalid("The refund is a percentage from 0 to 100.", field="refund_percent")
    if event.capacity < 1:
        raise EventInvalid("An event has at least one place.", field="capacity")
    if any(type(level) is not int or not 0 <= level <= 12 for level in event.eligible_year_levels):
        raise EventInvalid("Year levels are 0 (Kindergarten) to 12.", field="eligible_year_levels")


def _form_version_add(event: Event, raw_form: dict, user: User) -> ConsentFormVersion:
    """The version for this content: the existing one if nothing changed, a new one otherwise."""
    content = form_content_normalise(raw_form)
    content_hash = form_content_hash(content)
    existing = ConsentFormVersion.objects.filter(event=event, content_hash=content_hash).first()
    if existing is not None:
        return existing
    number = ConsentFormVersion.objects.filter(event=event).count() + 1
    return ConsentFormVersion.objects.create(event=event, number=number, content=content, content_hash=content_hash, created_by=user)


def event_create(*, staff: StaffMember, form: dict, **fields) -> Event:
    """A draft event at the staff member's school, with the first version of its consent form."""
    now = clock.now()
    fields = _place_in_school_zone(fields, staff.school)
    event = Event(school=staff.school, created_by=staff.user, status=EventStatus.DRAFT, **fields)
    _check_fields(event)
    if event.signup_deadline <= now:
        raise SignupDeadlinePassed("The sign-up deadline is already past.", field="signup_deadline")
    with transaction.atomic():
        event.save()
        event.consent_form = _form_version_add(event, form, staff.user)
        event.save(update_fields=["consent_form"])
        _audit(event, "event.create", staff, after=snapshot(event, AUDITED_FIELDS))
    return event


# What the audit log shows of an event; a new consent form shows as a new `consent_form_id`.
AUDITED_FIELDS = (*EDITABLE_FIELDS, "status", "consent_form_id", "cancel_reason")


def _audit(event: Event, action: str, staff: StaffMember, *, before=None, after=None, **details) -> None:
    audit_record(
        action=action,
        object_type="events.event",
        object_id=event.pk,
        school_id=event.school_id,
        before=before,
        after=after,
        details=details,
        actor=staff.user,
    )


def event_update(*, event_id: int, staff: StaffMember, form: dict | None = None, **fields) -> Event:
    """Change an event. A changed form becomes a new version: guardians who open the old one must re-read it.

    A published event's capacity cannot drop below the places taken; more
    places are offered to the waitlist at once.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    now = clock.now()
    with transaction.atomic(durable=True):
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id, school=staff.school))
        if event.status == EventStatus.CANCELLED:
            raise EventStateInvalid("A cancelled event cannot be changed.")
        before = snapshot(event, AUDITED_FIELDS)
        for name, value in _place_in_school_zone(fields, event.school).items():
            setattr(event, name, value)
        _check_fields(event)
        if "signup_deadline" in fields and event.signup_deadline <= now and event.status == EventStatus.DRAFT:
            raise SignupDeadlinePassed("The sign-up deadline is already past.", field="signup_deadline")
        taken = Signup.objects.filter(event=event, status__in=HOLDS_PLACE).count()
        if event.capacity < taken:
            raise CapacityBelowTaken(taken=taken)
        if form is not None:
            event.consent_form = _form_version_add(event, form, staff.user)
        event.updated_at = now
        event.save()
        if event.status == EventStatus.PUBLISHED:
            offer_places_locked(event, now=now)
        before, after = changed_fields(before, snapshot(event, AUDITED_FIELDS))
        _audit(event, "event.update", staff, before=before, after=after)
    return event


def event_publish(*, event_id: int, staff: StaffMember) -> tuple[Event, int]:
    """Open sign-ups and tell the guardians of every eligible student (in the app and by email).

    Returns the event and how many guardians were notified.
    """
    now = clock.now()
    with transaction.atomic(durable=True):
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id, school=staff.school))
        if event.status != EventStatus.DRAFT:
            raise EventStateInvalid(f"A {event.status} event cannot be published.")
        if not signups_open(event, now=now):
            raise SignupDeadlinePassed("The sign-up deadline is already past; move it before publishing.")
        event.status = EventStatus.PUBLISHED
        event.published_at = event.updated_at = now
        event.save(update_fields=["status", "published_at", "updated_at"])
        notified = notices.event_published(event, Student.objects.filter(eligible_students_q(event)))
        _audit(event, "event.publish", staff, before={"status": EventStatus.DRAFT}, after={"status": event.status}, notified=notified)
    return event, notified


def event_cancel(*, event_id: int, staff: StaffMember, reason: str = "") -> Event:
    """Cancel an event: every live sign-up ends, and a task refunds and tells each family (after commit).

    Cancelling twice is harmless; the refund task is idempotent.
    """
    now = clock.now()
    with transaction.atomic(durable=True):
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id, school=staff.school))
        if event.status == EventStatus.CANCELLED:
            return event
        was_published = event.status == EventStatus.PUBLISHED
        status_before = event.status
        event.status = EventStatus.CANCELLED
        event.cancelled_at = event.updated_at = now
        event.cancelled_by = staff.user
        event.cancel_reason = reason[:300]
        event.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"])
        ended = Signup.objects.filter(event=event, status__in=LIVE).update(status=SignupStatus.CANCELLED, status_changed_at=now, ended_at=now)
        # The refunds follow in a task (system actor, ledger references per sign-up); this row is the staff decision.
        _audit(
            event,
            "event.cancel",
            staff,
            before={"status": status_before},
            after={"status": event.status, "cancel_reason": event.cancel_reason},
            signups_cancelled=ended,
        )
        if was_published:
            enqueue_after_commit("events.tasks.settle_cancelled_event", event.pk)
    return event
