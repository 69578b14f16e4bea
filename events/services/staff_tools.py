"""Staff tools: reminders to families who have not answered, and attendance on the day."""

from django.db import transaction

from core import clock, school_time
from core.locks import lock_objects, lock_one
from events import notices
from events.errors import AttendanceNotOpen, EventNotOpen, SignupNotFound, SignupStateInvalid
from events.models import LIVE, UNPAID_PLACE, Attendance, Event, EventStatus, Signup, SignupStatus
from events.rules import eligible_students_q, signups_open
from guardians.models import StaffMember, Student


def event_remind(*, event: Event, automatic: bool) -> int:
    """Remind guardians (with consent permission) of eligible children who have neither signed nor
    declined, and the signer of each place still unpaid. Returns how many guardians were reminded.

    At most once a school day per guardian on demand, and once ever for the automatic reminder
    (notification dedupe keys), so pressing the button twice does not spam anyone.
    """
    now = clock.now()
    if event.status != EventStatus.PUBLISHED or not signups_open(event, now=now):
        raise EventNotOpen("Reminders go out only while sign-ups are open.")
    answered = Signup.objects.filter(event=event).filter(status__in=[*LIVE, SignupStatus.DECLINED]).values("student_id")
    silent = Student.objects.filter(eligible_students_q(event)).exclude(pk__in=answered)
    to_respond = notices.guardians_by_user(silent, consent_only=True)
    to_pay: dict = {}
    for signup in Signup.objects.filter(event=event, status__in=UNPAID_PLACE, payment_due_at__gt=now).select_related("student", "guardian__user"):
        to_pay.setdefault(signup.guardian.user, []).append(signup)
    day = school_time.school_today(event.school, at=now).isoformat()
    key = f"event_reminder:{event.pk}:auto" if automatic else f"event_reminder:{event.pk}:{day}"
    reminded = 0
    for user in {*to_respond, *to_pay}:
        reminded += notices.reminder(event, user, to_respond=to_respond.get(user, []), to_pay=to_pay.get(user, []), dedupe_key=key)
    return reminded


def attendance_mark(*, event_id: int, staff: StaffMember, marks: list[tuple[int, str]]) -> list[Signup]:
    """Mark confirmed students present or absent, on the event's days (school-local). Marking again overwrites."""
    now = clock.now()
    with transaction.atomic():
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id, school=staff.school))
        if event.status != EventStatus.PUBLISHED:
            raise EventNotOpen("Attendance is marked for published events only.")
        today = school_time.school_today(event.school, at=now)
        first = school_time.school_today(event.school, at=event.starts_at)
        last = school_time.school_today(event.school, at=event.ends_at)
        if not first <= today <= last:
            raise AttendanceNotOpen(first_day=first.isoformat(), last_day=last.isoformat())
        signups = {s.pk: s for s in lock_objects(Signup.objects.filter(event=event, pk__in=[pk for pk, _ in marks]))}
        marked = []
        for signup_id, attendance in marks:
            signup = signups.get(signup_id)
            if signup is None:
                raise SignupNotFound(signup_id=signup_id)
            if signup.status != SignupStatus.CONFIRMED:
                raise SignupStateInvalid(f"Only confirmed students are marked; sign-up {signup_id} is {signup.status}.")
            if attendance not in Attendance.values:
                raise ValueError(attendance)
            signup.attendance = attendance
            signup.attendance_marked_at = now
            signup.attendance_marked_by = staff.user
            signup.save(update_fields=["attendance", "attendance_marked_at", "attendance_marked_by"])
            marked.append(signup)
    return marked
