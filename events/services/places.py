"""Places and the waitlist. Every function here runs with the event row locked by the caller.

A place is held by a sign-up that is awaiting payment, offered, or confirmed.
An unpaid place whose payment deadline has passed holds nothing: it is marked
lapsed by the next write that locks the event (and by a periodic sweep, which
only hurries offers along; the deadline itself is judged at request time).
"""

from datetime import datetime

from django.db import transaction

from core import clock
from core.locks import lock_objects, lock_one
from events import notices, webhook_events
from events.models import HOLDS_PLACE, UNPAID_PLACE, Event, EventStatus, Signup, SignupStatus
from events.rules import offer_deadline


def places_taken_locked(event: Event) -> int:
    return Signup.objects.filter(event=event, status__in=HOLDS_PLACE).count()


def release_overdue_locked(event: Event, *, now: datetime) -> list[Signup]:
    """Lapse unpaid places past their deadline, then offer the freed places."""
    overdue = lock_objects(
        Signup.objects.filter(event=event, status__in=UNPAID_PLACE, payment_due_at__lte=now).select_related("student", "guardian__user")
    )
    for signup in overdue:
        signup.status = SignupStatus.LAPSED
        signup.status_changed_at = signup.ended_at = now
        signup.save(update_fields=["status", "status_changed_at", "ended_at"])
        signup.event = event
        notices.signup_changed(signup)
    offer_places_locked(event, now=now)
    return overdue


def offer_places_locked(event: Event, *, now: datetime) -> list[Signup]:
    """Give free places to the waitlist in order: a free event confirms at once, a paid one offers with a deadline."""
    if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return []
    free = event.capacity - places_taken_locked(event)
    if free <= 0:
        return []
    offered = lock_objects(
        Signup.objects.filter(event=event, status=SignupStatus.WAITLISTED).select_related("student", "guardian__user"),
        order_by=("waitlisted_at", "pk"),  # the first come are offered first
        limit=free,
    )
    for signup in offered:
        signup.status_changed_at = now
        if signup.amount_due == 0:
            signup.status = SignupStatus.CONFIRMED
        else:
            signup.status = SignupStatus.OFFERED
            signup.offered_at = now
            signup.payment_due_at = offer_deadline(event, now=now)
        signup.save(update_fields=["status", "status_changed_at", "offered_at", "payment_due_at"])
        signup.event = event
        notices.signup_changed(signup)
        if signup.status == SignupStatus.CONFIRMED:  # a free event's place offered is a place taken
            webhook_events.signup_confirmed_publish(signup=signup)
    return offered


def event_places_refresh(*, event_id: int) -> list[Signup]:
    """Lapse overdue unpaid places and offer them on; what any locked write does first, on its own."""
    with transaction.atomic(durable=True):
        event = lock_one(Event.objects.select_related("school").filter(pk=event_id))
        return release_overdue_locked(event, now=clock.now())
