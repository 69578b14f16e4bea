"""De-identifying a leaver's personal data once the retention period has passed (docs/privacy.md).

What goes: the child's name, date of birth (kept as 1 January of the birth year: the year level
already tells as much, and age-based voucher reports stay true to the year), roll class and
school student number, the free text of absence notes; and, through
`guardians.signals.student_deidentify`, the food profile and order notes (canteen/leavers.py) and
the consent answers, drawn signatures, typed names, IP addresses and user agents
(events/leavers.py). What stays: every id, so the ledger, totals, statements and the consent hash
chain are exactly as they were, and the `StudentLeaver` row as the record of what was done.

Invariants: only a leaver processed (card closed) and whose `retain_until` date has come in the
school's zone is touched; each leaver in one transaction, all apps' blanking with it; the row is
claimed with FOR UPDATE SKIP LOCKED and re-checked, so two runs at once never both de-identify one
student and a second run finds nothing left to do.
"""

from datetime import date, timedelta

import structlog
from django.db import transaction

from audit.actors import SYSTEM
from audit.services import audit_record
from core import clock, school_time
from core.locks import lock_one, lock_one_or_none
from guardians.leavers_models import StudentLeaver
from guardians.models import AbsenceNote, Student
from guardians.signals import student_deidentify

log = structlog.get_logger("guardians.retention")

DEIDENTIFIED_FIRST_NAME = "Former"
DEIDENTIFIED_LAST_NAME = "student"


def _due():
    return StudentLeaver.objects.filter(deidentified_at__isnull=True, undone_at__isnull=True, processed_at__isnull=False)


def leaver_deidentify(*, leaver_id: int) -> bool:
    """De-identify one leaver if their retention date has come. Returns whether this call did it."""
    with transaction.atomic():
        leaver = lock_one_or_none(_due().select_related("student__school").filter(pk=leaver_id), key=True, skip_locked=True)
        if leaver is None or leaver.retain_until > school_time.school_today(leaver.student.school):
            return False
        student = lock_one(Student.objects.filter(pk=leaver.student_id), key=True)  # student_number, a key column, changes
        student.first_name, student.last_name = DEIDENTIFIED_FIRST_NAME, DEIDENTIFIED_LAST_NAME
        student.date_of_birth = date(student.date_of_birth.year, 1, 1)
        student.roll_class = ""
        student.student_number = f"left-{student.pk}"
        student.save(update_fields=["first_name", "last_name", "date_of_birth", "roll_class", "student_number"])
        notes = AbsenceNote.objects.filter(student=student).exclude(details="").update(details="")
        student_deidentify.send(sender=StudentLeaver, leaver_id=leaver.pk, student_id=student.pk)
        now = clock.now()
        StudentLeaver.objects.filter(pk=leaver.pk).update(deidentified_at=now)
        audit_record(
            action="student.deidentify",
            object_type="guardians.student",
            object_id=student.pk,
            school_id=student.school_id,
            before={"deidentified_at": None},
            after={"deidentified_at": now},
            details={"leaver_id": leaver.pk, "retain_until": leaver.retain_until, "absence_notes_blanked": notes},
            actor=SYSTEM,
        )
    log.info("leaver_deidentified", leaver_id=leaver_id)
    return True


def leavers_deidentify_due() -> int:
    """De-identify every leaver whose retention date has come. Returns how many this run did."""
    # A school's today is at most a day ahead of UTC's: the exact test is made per leaver, under its lock.
    horizon = clock.now().date() + timedelta(days=1)
    ids = list(_due().filter(retain_until__lte=horizon).order_by("pk").values_list("pk", flat=True))
    return sum(leaver_deidentify(leaver_id=leaver_id) for leaver_id in ids)
