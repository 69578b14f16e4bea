"""A leaver's event sign-ups and consent records (guardians.signals.student_left and student_deidentify).

Sign-ups for events that start on the leaving day or later, and have not started, end as cancelled
by the school: the whole fee paid comes back to the wallet that paid it (events/services/payments.py)
and the freed place goes to the waitlist (events/services/places.py). Locks as in `signup_withdraw`:
the event, then the sign-up. Idempotent: a sign-up already ended is left alone.
"""

from zoneinfo import ZoneInfo

from django.db import transaction

from audit.actors import SYSTEM
from audit.services import audit_record
from core import clock
from core.locks import lock_one
from core.school_time import local_midnight
from events.models import HOLDS_PLACE, LIVE, ConsentDocument, ConsentRecord, Event, Signup, SignupStatus
from events.services.payments import refund_locked
from events.services.places import release_overdue_locked
from guardians.models import Student


def signup_cancel_for_leaver(*, signup_id: int, leaver_id: int) -> int:
    """End one live sign-up of a leaver, refunding in full what was paid. Returns the cents refunded."""
    now = clock.now()
    with transaction.atomic(durable=True):
        event_id = Signup.objects.filter(pk=signup_id).values_list("event_id", flat=True).first()
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id))
        # FOR UPDATE: a refund sets refund_transaction, a one-to-one column.
        signup = lock_one(Signup.objects.select_related("student", "paid_by").filter(pk=signup_id), key=True)
        if signup.status not in LIVE or now >= event.starts_at:
            return 0
        status_before, held_place = signup.status, signup.status in HOLDS_PLACE
        signup.status = SignupStatus.CANCELLED
        signup.status_changed_at = signup.ended_at = now
        signup.save(update_fields=["status", "status_changed_at", "ended_at"])
        owed = signup.amount_paid - signup.refunded_amount
        refunded = owed if owed > 0 and refund_locked(signup=signup, event=event, amount=owed, actor="system", memo=f"{event.title}: the student left the school") else 0
        if held_place:
            release_overdue_locked(event, now=now)
        audit_record(
            action="event.signup_cancel_leaver",
            object_type="events.signup",
            object_id=signup.pk,
            school_id=event.school_id,
            before={"status": status_before},
            after={"status": signup.status},
            details={"leaver_id": leaver_id, "event_id": event.pk, "refunded": refunded},
            actor=SYSTEM,
        )
    return refunded


def leaver_signups_cancel(*, leaver_id: int, student_id: int, leaving_on, **kwargs) -> list[int]:
    """Cancel every live sign-up of the student for an event starting on the leaving day or later."""
    student = Student.objects.select_related("school").get(pk=student_id)
    from_instant = max(local_midnight(ZoneInfo(student.school.time_zone), leaving_on), clock.now())
    ids = list(
        Signup.objects.filter(student_id=student_id, status__in=LIVE, event__starts_at__gte=from_instant).order_by("pk").values_list("pk", flat=True)
    )
    for signup_id in ids:
        signup_cancel_for_leaver(signup_id=signup_id, leaver_id=leaver_id)
    return ids


def leaver_consent_deidentify(*, student_id: int, **kwargs) -> int:
    """Blank the personal facts of the student's consent records; the hashes and chain links stay
    (the database allows exactly this change, once: events migration 0003). Their stored documents,
    which show those facts, are deleted (a read renders the de-identified ones). The blanking comes
    first: a renderer stores under the record's row lock (events/documents.py), so none can store a
    document of the old facts after it. Returns the records changed."""
    with transaction.atomic():
        changed = ConsentRecord.objects.filter(student_id=student_id, deidentified_at__isnull=True).update(
            answers={}, signature_strokes=[], signature_png=b"", typed_name="", ip_address="", user_agent="", deidentified_at=clock.now()
        )
        ConsentDocument.objects.filter(record__student_id=student_id).delete()
    return changed
