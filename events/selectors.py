"""Reads for events. Tenant scoping lives here: guardians see events their linked children may go to;
staff see their own school's. Anything else is simply absent (the API answers 404)."""

from django.conf import settings
from django.db.models import Q, QuerySet

from events.models import ConsentRecord, Event, EventStatus, Signup, SignupStatus
from events.rules import eligible_students_q, is_eligible
from guardians.models import Guardian, GuardianLink, StaffMember, Student, User
from guardians.selectors import guardian_for_user, staff_for_user


def _guardian_links(guardian: Guardian) -> list[GuardianLink]:
    return list(GuardianLink.objects.filter(guardian=guardian, revoked_at__isnull=True).select_related("student__school"))


def guardian_event_ids(guardian: Guardian) -> set[int]:
    """Published (or since cancelled) events that a linked child is eligible for or signed up to."""
    links = _guardian_links(guardian)
    if not links:
        return set()
    students = [link.student for link in links]
    candidates = Event.objects.filter(
        school_id__in={student.school_id for student in students}, status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED]
    )
    signed = set(Signup.objects.filter(student__in=students).values_list("event_id", flat=True))
    return {event.pk for event in candidates if event.pk in signed or any(is_eligible(event, student) for student in students)}


def events_visible_to(user: User) -> QuerySet[Event]:
    visible = Q(pk__in=[])
    staff = staff_for_user(user)
    if staff is not None:
        visible |= Q(school_id=staff.school_id)
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(pk__in=guardian_event_ids(guardian))
    return Event.objects.filter(visible).select_related("school", "consent_form")


def staff_events(staff: StaffMember) -> QuerySet[Event]:
    return Event.objects.filter(school_id=staff.school_id).select_related("school", "consent_form")


def guardian_children_for_event(event: Event, guardian: Guardian) -> list[dict]:
    """Each linked child of the event's school: eligible or not, whether this guardian may sign, and their sign-up."""
    links = [link for link in _guardian_links(guardian) if link.student.school_id == event.school_id]
    latest: dict[int, Signup] = {}
    for signup in Signup.objects.filter(event=event, student__in=[link.student for link in links]).order_by("pk"):
        latest[signup.student_id] = signup
    return [
        {
            "student": link.student,
            "eligible": is_eligible(event, link.student),
            "can_give_consent": link.can_give_consent,
            "signup": latest.get(link.student_id),
        }
        for link in links
        if is_eligible(event, link.student) or link.student_id in latest
    ]


def signups_visible_to(user: User) -> QuerySet[Signup]:
    visible = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(student__guardian_links__guardian=guardian, student__guardian_links__revoked_at__isnull=True)
    staff = staff_for_user(user)
    if staff is not None:
        visible |= Q(event__school_id=staff.school_id)
    return Signup.objects.filter(visible).distinct().select_related("event__school", "student", "guardian__user")


def can_see_medical(user: User) -> bool:
    staff = staff_for_user(user)
    return staff is not None and staff.has_role(*settings.EVENTS_MEDICAL_ROLES)


def consents_visible_to(user: User) -> QuerySet[ConsentRecord]:
    """The signed consent: every guardian linked to the child, and the school's staff who may see medical answers."""
    visible = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(student__guardian_links__guardian=guardian, student__guardian_links__revoked_at__isnull=True)
    staff = staff_for_user(user)
    if staff is not None and can_see_medical(user):
        visible |= Q(school_id=staff.school_id)
    return (
        ConsentRecord.objects.filter(visible)
        .distinct()
        .select_related("school", "event__school", "student", "guardian__user", "link", "form_version")
    )


def answers_for_display(record: ConsentRecord | None, *, include_medical: bool) -> list[dict]:
    if record is None:
        return []
    rows = []
    for question in record.form_version.questions:
        withheld = question["type"] == "medical" and not include_medical
        rows.append(
            {
                "key": question["key"],
                "label": question["label"],
                "type": question["type"],
                "answer": None if withheld else record.answers.get(question["key"]),
                "withheld": withheld,
            }
        )
    return rows


def event_roster(*, event: Event, include_medical: bool) -> dict:
    """Every eligible or signed-up student with their latest sign-up, consent, payment, answers and attendance."""
    latest: dict[int, Signup] = {}
    signups = (
        Signup.objects.filter(event=event)
        .select_related("student", "guardian__user", "consent__form_version")
        .order_by("pk")
    )
    for signup in signups:
        latest[signup.student_id] = signup
    rows = []
    for signup in sorted(latest.values(), key=lambda s: (s.student.last_name, s.student.first_name, s.student_id)):
        record = getattr(signup, "consent", None)
        rows.append({"signup": signup, "student": signup.student, "consent": record, "answers": answers_for_display(record, include_medical=include_medical)})
    not_responded = list(Student.objects.filter(eligible_students_q(event)).exclude(pk__in=latest.keys()))
    counts = {status: 0 for status in SignupStatus.values}
    for signup in latest.values():
        counts[signup.status] += 1
    taken = counts[SignupStatus.CONFIRMED] + counts[SignupStatus.AWAITING_PAYMENT] + counts[SignupStatus.OFFERED]
    return {
        "event": event,
        "rows": rows,
        "not_responded": not_responded,
        "counts": {**counts, "not_responded": len(not_responded), "places_taken": taken, "places_left": max(0, event.capacity - taken)},
        "include_medical": include_medical,
        "questions": roster_questions(event),
    }



def roster_questions(event: Event) -> list[dict]:
    """Every question any version of the form asked, in the order first asked (the roster's columns)."""
    seen: dict[str, dict] = {}
    for version in event.form_versions.order_by("number"):
        for question in version.questions:
            seen.setdefault(question["key"], question)
    return list(seen.values())
