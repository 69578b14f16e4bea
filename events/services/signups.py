"""Guardians sign their child up (consent with a drawn signature), decline, or withdraw."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from core import clock
from core.locks import lock_one, lock_one_or_none
from events import notices, queries
from events.consent_forms import answers_validate
from events.errors import (
    AlreadySignedUp,
    ConsentStatementRequired,
    EventNotFound,
    EventNotOpen,
    FormVersionStale,
    SignupBusy,
    SignupDeadlinePassed,
    SignupNotFound,
    SignupStateInvalid,
    StudentNotEligible,
    TypedNameInvalid,
    WaitlistFull,
    WithdrawalClosed,
)
from events.models import HOLDS_PLACE, LIVE, ConsentRecord, Event, EventStatus, Signup, SignupStatus
from events.rules import is_eligible, refund_amount, signups_open
from events.services import signup_place
from events.services.payments import refund_locked
from events.services.places import event_places_refresh, release_overdue_locked
from events.signature import signature_validate
from guardians import leavers
from guardians.errors import PermissionMissing, StudentHasLeft
from guardians.models import GuardianLink


@dataclass(frozen=True)
class Evidence:
    """Where the signature came from."""

    ip_address: str
    user_agent: str


def _lock_link(link_id: int) -> GuardianLink:
    link = lock_one(GuardianLink.objects.select_related("guardian__user", "student__school").filter(pk=link_id))
    if not link.is_active:
        raise PermissionMissing("Your link to this student has been revoked.")
    if not link.can_give_consent:
        raise PermissionMissing("Your link to this student does not carry consent permission.")
    return link


def _lock_open_event(event_id: int, *, school_id: int) -> Event:
    event = lock_one_or_none(Event.objects.select_related("school", "consent_form").filter(pk=event_id, school_id=school_id))
    if event is None or event.status == EventStatus.DRAFT:
        raise EventNotFound()
    if event.status != EventStatus.PUBLISHED:
        raise EventNotOpen("This event has been cancelled.")
    return event


def _open_event(event_id: int, *, school_id: int) -> Event:
    """The event as it is now, read without a lock: the sign-up's statement re-checks under the lock what was judged on it."""
    event = queries.event_with_form(event_id, school_id)
    if event is None or event.status == EventStatus.DRAFT:
        raise EventNotFound()
    if event.status != EventStatus.PUBLISHED:
        raise EventNotOpen("This event has been cancelled.")
    return event


def _reread_link(link_id: int) -> GuardianLink:
    return GuardianLink.objects.select_related("guardian__user", "student__school").get(pk=link_id)


def _consenting(link: GuardianLink) -> GuardianLink:
    if not link.is_active:
        raise PermissionMissing("Your link to this student has been revoked.")
    if not link.can_give_consent:
        raise PermissionMissing("Your link to this student does not carry consent permission.")
    return link


# How often a sign-up reads and checks again when what it checked changed before it got the lock
# (an edit, a revoked link, a freed place to give to the waitlist first): each retry sees the change.
PLACE_ATTEMPTS = 3


def signup_sign(
    *,
    event_id: int,
    link: GuardianLink,
    form_hash: str,
    answers: dict,
    signature: dict,
    typed_name: str,
    statement_accepted: bool,
    evidence: Evidence,
) -> Signup:
    """Consent for a child, signed by hand, and take a place (or a waitlist spot).

    The rules are judged here, on the event and the link read without a lock; then one statement
    (events/services/signup_place.py) locks the event, the link and the event's consent chain, checks
    that nothing judged has changed, places or waitlists the child, appends the consent record and
    writes the outbox rows of the notice (sent by a job) and of the webhooks, and commits. A refusal
    writes nothing. Over capacity the child goes to the waitlist (not an error); a full capped
    waitlist is `waitlist_full`.
    """
    if statement_accepted is not True:
        raise ConsentStatementRequired()
    name = " ".join(typed_name.split())
    if not 2 <= len(name) <= 160:
        raise TypedNameInvalid()
    strokes = signature_validate(signature)  # rendered to a PNG later, off this request (events/documents.py)
    for attempt in range(PLACE_ATTEMPTS):
        now = clock.now()
        event = _open_event(event_id, school_id=link.student.school_id)
        # The caller's link was read live on this request (guardians.queries.active_link); a retry reads it again.
        link = _consenting(link) if attempt == 0 else _consenting(_reread_link(link.pk))
        student = link.student
        if not signups_open(event, now=now):
            raise SignupDeadlinePassed()
        if not is_eligible(event, student):
            raise StudentNotEligible()
        event_day = event.starts_at.astimezone(ZoneInfo(event.school.time_zone)).date()
        # A leaving decision is rare: the statement checks it under its lock and answers 'stale', and
        # only then is it judged here, for the error to name it (one read less for every sign-up).
        if attempt > 0 and leavers.student_gone_on(student.pk, event_day):
            raise StudentHasLeft()
        form = event.consent_form
        if form_hash != form.content_hash:
            raise FormVersionStale(current_form_hash=form.content_hash)
        cleaned = answers_validate(questions=form.questions, answers=answers)
        # Not in a transaction: the call is one statement and its own transaction (signup_place.py).
        placed = signup_place.signup_sign_call(
            event=event,
            link=link,
            leaving_day=event_day,
            now=now,
            record=ConsentRecord(
                school=event.school,
                event=event,
                guardian=link.guardian,
                link=link,
                student=student,
                form_version=form,
                form_hash=form.content_hash,
                answers=cleaned,
                signature_strokes=strokes,
                typed_name=name,
                statement=form.content["statement"],
                signed_at=now,
                ip_address=evidence.ip_address[:45],
                user_agent=evidence.user_agent[:400],
            ),
        )
        if placed.code == "placed":
            return placed.signup
        if placed.code == "already_signed_up":
            raise AlreadySignedUp()
        if placed.code == "waitlist_full":
            raise WaitlistFull()
        if placed.code == "places_to_release":
            event_places_refresh(event_id=event.pk)
        elif placed.code != "stale":
            raise ValueError(f"events_signup_sign answered an unknown code {placed.code!r}")
    raise SignupBusy()


def signup_decline(*, event_id: int, link: GuardianLink) -> Signup:
    """Answer "not going": no consent, no place, and no more reminders about this child."""
    now = clock.now()
    with transaction.atomic(durable=True):
        event = _lock_open_event(event_id, school_id=link.student.school_id)
        link = _lock_link(link.pk)
        if not is_eligible(event, link.student):
            raise StudentNotEligible()
        if Signup.objects.filter(event=event, student=link.student, status__in=LIVE).exists():
            raise AlreadySignedUp("This student has a place or a waitlist spot: withdraw instead.")
        return Signup.objects.create(
            event=event, student=link.student, guardian=link.guardian, link=link, status=SignupStatus.DECLINED, created_at=now, status_changed_at=now, ended_at=now
        )


def signup_withdraw(*, signup_id: int, link: GuardianLink, actor: str) -> tuple[Signup, int]:
    """Take a child out. A paid place is refunded per the event's policy, only before the sign-up deadline
    (after it, the school decides). The freed place goes to the waitlist. Returns the sign-up and the refund."""
    now = clock.now()
    with transaction.atomic(durable=True):
        event_id = Signup.objects.filter(pk=signup_id, student_id=link.student_id).values_list("event_id", flat=True).first()
        if event_id is None:
            raise SignupNotFound()
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id))
        link = _lock_link(link.pk)
        # FOR UPDATE: a refund sets refund_transaction, a one-to-one column.
        signup = lock_one(Signup.objects.select_related("student", "guardian__user", "paid_by").filter(pk=signup_id), key=True)
        if signup.status not in LIVE:
            raise SignupStateInvalid(f"A {signup.status} sign-up cannot be withdrawn.")
        if now >= event.starts_at:
            raise SignupStateInvalid("The event has started; talk to the school.")
        paid = signup.amount_paid - signup.refunded_amount
        if paid > 0 and not signups_open(event, now=now):
            raise WithdrawalClosed()
        held_place = signup.status in HOLDS_PLACE
        refund = refund_amount(paid=paid, percent=event.refund_percent) if paid else 0
        signup.status = SignupStatus.WITHDRAWN
        signup.status_changed_at = signup.ended_at = now
        signup.save(update_fields=["status", "status_changed_at", "ended_at"])
        if refund:
            refund_locked(signup=signup, event=event, amount=refund, actor=actor, memo=f"Withdrawal from {event.title}")
        signup.event = event
        notices.signup_changed(signup, refund=refund)
        if held_place:
            release_overdue_locked(event, now=now)
    return signup, refund
