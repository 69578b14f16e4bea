"""Celery tasks: thin, by id, safe to run twice. Beat jobs only cause side effects (refunds owed,
notices, offers); every deadline is still judged at request time."""

from datetime import timedelta

import structlog
from celery import shared_task

from core import clock
from core.notifications import notify
from events import notices, services
from events.chain import consent_chain_verify
from events.documents import consent_documents_render_due
from events.models import UNPAID_PLACE, ConsentRecord, Event, EventStatus, Signup
from events.queries import signup_for_notice
from events.services.card_payments import signup_pay_after_topup
from events.services.places import event_places_refresh
from guardians.models import School, StaffMember, StaffRole

log = structlog.get_logger("events.tasks")
TRANSIENT = (ConnectionError, TimeoutError)


@shared_task(name="events.tasks.settle_cancelled_event", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8)
def settle_cancelled_event(event_id: int) -> int:
    return services.event_cancellation_settle(event_id=event_id)


@shared_task(name="events.tasks.send_due_reminders")
def send_due_reminders() -> int:
    """The automatic reminder, once per event, `reminder_hours_before_deadline` before the deadline."""
    now = clock.now()
    reminded = 0
    due = Event.objects.filter(status=EventStatus.PUBLISHED, signup_deadline__gt=now, reminder_hours_before_deadline__gt=0).select_related("school")
    for event in due:
        if event.signup_deadline - now <= timedelta(hours=event.reminder_hours_before_deadline):
            reminded += services.event_remind(event=event, automatic=True)
    return reminded


@shared_task(name="events.tasks.advance_waitlists")
def advance_waitlists() -> int:
    """Offer places freed by unpaid deadlines without waiting for the next request on the event."""
    now = clock.now()
    event_ids = (
        Signup.objects.filter(status__in=UNPAID_PLACE, payment_due_at__lte=now, event__status=EventStatus.PUBLISHED)
        .values_list("event_id", flat=True)
        .distinct()
    )
    return sum(len(event_places_refresh(event_id=event_id)) for event_id in list(event_ids))


@shared_task(name="events.tasks.render_consent_documents")
def render_consent_documents() -> int:
    """Render the PNG and PDF of every consent signed over a minute ago that has none yet
    (events/documents.py), batch by batch: the sign-up answered without them. Returns how many it
    went through (any that failed are logged and tried again next minute)."""
    seen, after_id = 0, 0
    while batch := consent_documents_render_due(after_id=after_id):
        seen, after_id = seen + len(batch), batch[-1]
    return seen


@shared_task(name="events.tasks.verify_consent_chains")
def verify_consent_chains() -> list[int]:
    """Recompute every school's consent chains; tell the school's admins if one is broken."""
    broken = []
    school_ids = ConsentRecord.objects.order_by("school_id").values_list("school_id", flat=True).distinct()
    for school in School.objects.filter(pk__in=list(school_ids)).order_by("pk"):
        report = consent_chain_verify(school=school)
        if report.valid:
            continue
        broken.append(school.pk)
        log.error("consent_chain_broken", school_id=school.pk, problems=report.problems[:20])
        admins = [staff.user for staff in StaffMember.objects.filter(school=school).select_related("user") if staff.has_role(StaffRole.ADMIN)]
        first = report.problems[0]
        notify(
            users=admins,
            kind="consent_chain_broken",
            title="Consent records failed verification",
            body=f"{len(report.problems)} problem(s) in {school.name}'s consent records, first at record {first['sequence']}: {first['detail']}.",
            data={"school_id": school.pk, "problems": report.problems[:20]},
            dedupe_key=f"consent_chain_broken:{school.pk}:{clock.now().date().isoformat()}",
        )
    return broken


@shared_task(name="events.tasks.pay_signup_after_topup", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8)
def pay_signup_after_topup(topup_id: int) -> int:
    return len(signup_pay_after_topup(topup_id=topup_id))


# OSError: the mail server's refusals (smtplib's errors) as well as the network's, since this job
# delivers the notice itself; acks_late redelivers it if the worker dies while sending.
@shared_task(name="events.tasks.signup_signed_notice", autoretry_for=(OSError,), retry_backoff=True, max_retries=8, acks_late=True)
def signup_signed_notice(signup_id: int, status: str) -> None:
    """The guardian's notice of a sign-up, for the status it got when signed (its outbox row is written
    by events_signup_sign), recorded and delivered by this one job: a burst of sign-ups costs the
    worker one job each, not two. Safe to run twice: the notice's dedupe key holds one per sign-up
    and status, and each channel sends only once."""
    signup = signup_for_notice(signup_id)
    if signup is None:
        raise Signup.DoesNotExist(f"sign-up {signup_id}")  # written with this job's outbox row: not a retry case
    notices.signup_changed(signup, status=status, deliver_here=True)
