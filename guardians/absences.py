"""Absence notes: a guardian reports a child away, the school sees and acknowledges it.

Reporting sends `absence_reported` after commit (see guardians.signals); the
canteen cancels that day's order from its receiver, this app knows nothing of it.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from core import clock, school_time
from core.notifications import notify
from guardians.errors import AbsenceDatesInvalid, PermissionMissing
from guardians.models import AbsenceNote, GuardianLink, StaffMember, User
from guardians.selectors import guardian_for_user, staff_for_user
from guardians.signals import absence_reported

# A note may explain days already past (the usual note after an illness), within reason.
MAX_DAYS_IN_PAST = 30
MAX_DAYS_AHEAD = 366
MAX_SPAN_DAYS = 62


def absence_report(*, link: GuardianLink, first_day: date, last_day: date, reason: str, details: str = "") -> AbsenceNote:
    """Record a note from a guardian with an active link to the student (any permission will do).

    Days are the school's local calendar days. Invariant: `absence_reported` is
    sent once, after the note is committed.
    """
    if not link.is_active:
        raise PermissionMissing("Your link to this student has been revoked.")
    today = school_time.school_today(link.student.school)
    if last_day < first_day:
        raise AbsenceDatesInvalid("The last day is before the first day.")
    if (last_day - first_day).days + 1 > MAX_SPAN_DAYS:
        raise AbsenceDatesInvalid(f"A note covers at most {MAX_SPAN_DAYS} days; send another for a longer absence.")
    if first_day < today - timedelta(days=MAX_DAYS_IN_PAST) or last_day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise AbsenceDatesInvalid(f"Notes cover days from {MAX_DAYS_IN_PAST} days ago to a year ahead.")
    with transaction.atomic():
        note = AbsenceNote.objects.create(
            student=link.student,
            reported_by=link.guardian,
            link=link,
            first_day=first_day,
            last_day=last_day,
            reason=reason,
            details=details,
        )
        days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
        note_id, student_id = note.pk, note.student_id
        # robust: the note is committed whatever a receiver does; a receiver that fails is logged by
        # Django, and never turns the guardian's saved note into a 500.
        transaction.on_commit(
            lambda: absence_reported.send(sender=AbsenceNote, absence_note_id=note_id, student_id=student_id, dates=days),
            robust=True,
        )
    return note


def absence_acknowledge(*, note: AbsenceNote, staff: StaffMember) -> AbsenceNote:
    """Staff mark a note seen; the reporting guardian is told in the app. Acknowledging twice changes nothing."""
    with transaction.atomic():
        claimed = AbsenceNote.objects.filter(pk=note.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=clock.now(), acknowledged_by=staff.user
        )
        note.refresh_from_db()
        if claimed:
            student = note.student
            notify(
                users=[note.reported_by.user],
                kind="absence_acknowledged",
                title=f"{student.school.name} has seen your absence note for {student.first_name}",
                body=f"{student.first_name}: {note.first_day.isoformat()} to {note.last_day.isoformat()}.",
                data={"absence_note_id": note.pk, "student_id": student.pk},
                dedupe_key=f"absence_acknowledged:{note.pk}",
            )
    return note


def absences_visible_to(user: User) -> QuerySet[AbsenceNote]:
    """Guardians see notes for their linked children; staff their school's."""
    visible = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(student__guardian_links__guardian=guardian, student__guardian_links__revoked_at__isnull=True)
    staff = staff_for_user(user)
    if staff is not None:
        visible |= Q(student__school_id=staff.school_id)
    return (
        AbsenceNote.objects.filter(visible)
        .select_related("student__school", "reported_by__user", "acknowledged_by")
        .distinct()
    )
