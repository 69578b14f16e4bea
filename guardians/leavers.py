"""Marking a student as leaving the school, undoing it, and processing the leaving day.

The decision is a `StudentLeaver` row, written by school staff. On the leaving day (at once, for
a day already come) `leaver_process` announces `guardians.signals.student_left`, and the apps
downstream close the card and send its balance back to the family's wallets (wallet/leavers.py),
cancel and refund the canteen orders (canteen/leavers.py) and the event sign-ups (events/leavers.py)
from that day on, each through its own services: guardians cannot import them (docs/architecture.md).

Invariants: at most one live decision per student (a partial unique constraint); a decision can
be undone only before its leaving day, under the row's lock, so an undo never races the processing;
every receiver is idempotent, so a processing cut short is simply run again by the sweep
(guardians/tasks.py), and `processed_at` is set only once every receiver has succeeded.
"""

from datetime import date, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from audit.actors import SYSTEM
from audit.services import audit_record
from core import clock, school_time
from core.locks import lock_one_or_none
from guardians.errors import LeaverAlreadyLeft, LeaverNotFound, LeavingDateInvalid, StudentAlreadyLeaving
from guardians.leavers_models import StudentLeaver
from guardians.models import Student, User
from guardians.signals import student_left

log = structlog.get_logger("guardians.leavers")


def retention_deadline(leaving_on: date) -> date:
    """The day from which the leaver's personal data is de-identified (docs/privacy.md)."""
    return leaving_on + timedelta(days=settings.LEAVER_RETENTION_DAYS)


def _check_leaving_date(student: Student, leaving_on: date) -> None:
    today = school_time.school_today(student.school)
    earliest = today - timedelta(days=settings.LEAVER_BACKDATE_DAYS)
    latest = today + timedelta(days=settings.LEAVER_AHEAD_DAYS)
    if not earliest <= leaving_on <= latest:
        raise LeavingDateInvalid(earliest=earliest.isoformat(), latest=latest.isoformat())


def leaver_mark(*, student: Student, leaving_on: date, reason: str, marked_by: User, request_key: str | None = None) -> StudentLeaver:
    """Record that `student` leaves the school on `leaving_on` (the first day they are gone).

    A leaving day already come is processed at once; a later one by the daily sweep. The same
    `request_key` returns the decision it made, without a second one.
    """
    if request_key is not None:
        already = StudentLeaver.objects.filter(request_key=request_key).first()
        if already is not None:
            return already
    _check_leaving_date(student, leaving_on)
    try:
        with transaction.atomic(durable=True):
            lock_one_or_none(Student.objects.filter(pk=student.pk))
            if StudentLeaver.objects.filter(student=student, undone_at__isnull=True).exists():
                raise StudentAlreadyLeaving()
            leaver = StudentLeaver.objects.create(
                student=student,
                leaving_on=leaving_on,
                reason=reason,
                marked_by=marked_by,
                request_key=request_key,
                retain_until=retention_deadline(leaving_on),
            )
            audit_record(
                action="student.leaver_mark",
                object_type="guardians.student",
                object_id=student.pk,
                school_id=student.school_id,
                before={"leaving_on": None},
                after={"leaving_on": leaving_on, "reason": reason, "retain_until": leaver.retain_until},
                details={"leaver_id": leaver.pk},
                actor=marked_by,
            )
    except IntegrityError:
        replayed = StudentLeaver.objects.filter(request_key=request_key).first() if request_key else None
        if replayed is not None:  # the same key raced itself: the winner's decision is the answer
            return replayed
        raise StudentAlreadyLeaving() from None
    if leaving_on <= school_time.school_today(student.school):
        try:
            leaver_process(leaver_id=leaver.pk)
        except Exception:  # the decision stands; the sweep finishes the processing
            log.exception("leaver_processing_failed", leaver_id=leaver.pk)
    leaver.refresh_from_db()
    return leaver


def leaver_undo(*, student: Student, by_user: User) -> StudentLeaver:
    """Take back a leaving decision before its leaving day: nothing has happened yet to undo."""
    with transaction.atomic(durable=True):
        leaver = lock_one_or_none(StudentLeaver.objects.filter(student=student, undone_at__isnull=True))
        if leaver is None:
            raise LeaverNotFound()
        if leaver.processed_at is not None or leaver.leaving_on <= school_time.school_today(student.school):
            raise LeaverAlreadyLeft()
        leaver.undone_at = clock.now()
        leaver.undone_by = by_user
        leaver.save(update_fields=["undone_at", "undone_by"])
        audit_record(
            action="student.leaver_undo",
            object_type="guardians.student",
            object_id=student.pk,
            school_id=student.school_id,
            before={"leaving_on": leaver.leaving_on},
            after={"leaving_on": None},
            details={"leaver_id": leaver.pk},
            actor=by_user,
        )
    return leaver


def _claim_due(leaver_id: int) -> StudentLeaver | None:
    """The leaver, if its leaving day has come and it is neither undone nor processed. The row lock
    orders this check against `leaver_undo`: once the day has come, an undo is refused."""
    with transaction.atomic():
        leaver = lock_one_or_none(StudentLeaver.objects.select_related("student__school").filter(pk=leaver_id))
        if leaver is None or leaver.undone_at is not None or leaver.processed_at is not None:
            return None
        if leaver.leaving_on > school_time.school_today(leaver.student.school):
            return None
        return leaver


def leaver_process(*, leaver_id: int) -> bool:
    """Close the leaver's card, return its balance, cancel what lies ahead. Returns whether it ran.

    Runs outside any transaction: the receivers each commit their own (durable) one. Safe to run again, and
    concurrently: every receiver checks state under its own locks before it moves money.
    """
    leaver = _claim_due(leaver_id)
    if leaver is None:
        return False
    student_left.send(
        sender=StudentLeaver, leaver_id=leaver.pk, student_id=leaver.student_id, leaving_on=leaver.leaving_on, by_user_id=leaver.marked_by_id
    )
    with transaction.atomic():
        marked = StudentLeaver.objects.filter(pk=leaver.pk, processed_at__isnull=True).update(processed_at=clock.now())
        if marked:
            audit_record(
                action="student.leaver_process",
                object_type="guardians.student",
                object_id=leaver.student_id,
                school_id=leaver.student.school_id,
                before={"processed_at": None},
                after={"processed_at": clock.now()},
                details={"leaver_id": leaver.pk, "leaving_on": leaver.leaving_on},
                actor=SYSTEM,
            )
    return bool(marked)


def leavers_process_due() -> int:
    """Process every leaver whose leaving day has come (in their school's zone). Returns how many."""
    # A school's today is at most a day ahead of UTC's: the exact test is made per leaver, under its lock.
    horizon = clock.now().date() + timedelta(days=1)
    due = StudentLeaver.objects.filter(processed_at__isnull=True, undone_at__isnull=True, leaving_on__lte=horizon).order_by("pk")
    processed = 0
    for leaver_id in list(due.values_list("pk", flat=True)):
        try:
            processed += leaver_process(leaver_id=leaver_id)
        except Exception:  # one leaver's failure does not hold up the others; the next sweep retries it
            log.exception("leaver_processing_failed", leaver_id=leaver_id)
    return processed


def student_gone_on(student_id: int, day: date) -> bool:
    """Whether a live leaving decision takes effect on or before `day` (the school's local date):
    the child is not at the school that day, so nothing may be booked for them."""
    return StudentLeaver.objects.filter(student_id=student_id, undone_at__isnull=True, leaving_on__lte=day).exists()


def live_leaver(student: Student) -> StudentLeaver | None:
    return StudentLeaver.objects.filter(student=student, undone_at__isnull=True).first()
