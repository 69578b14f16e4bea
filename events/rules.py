"""Small pure rules shared by the services and selectors: eligibility, deadlines, refunds."""

from datetime import datetime, timedelta

from django.db.models import Q

from core import clock
from events.models import Event, Signup
from guardians.models import Student


def is_eligible(event: Event, student: Student) -> bool:
    if student.school_id != event.school_id:
        return False
    if not event.eligible_year_levels and not event.eligible_classes:
        return True
    return student.year_level in event.eligible_year_levels or student.roll_class in event.eligible_classes


def eligible_students_q(event: Event) -> Q:
    """The same rule as a query over Student."""
    q = Q(school_id=event.school_id)
    if event.eligible_year_levels or event.eligible_classes:
        q &= Q(year_level__in=event.eligible_year_levels) | Q(roll_class__in=event.eligible_classes)
    return q


def signups_open(event: Event, *, now: datetime | None = None) -> bool:
    """Deadlines are instants; the school's zone only matters for showing them (and input without an offset)."""
    return (now or clock.now()) < event.signup_deadline


def payment_overdue(signup: Signup, *, now: datetime | None = None) -> bool:
    return signup.payment_due_at is not None and (now or clock.now()) >= signup.payment_due_at


def offer_deadline(event: Event, *, now: datetime | None = None) -> datetime:
    """A freed place is held for the event's offer window, but never past the event's start."""
    return min((now or clock.now()) + timedelta(hours=event.offer_window_hours), event.starts_at)


def refund_amount(*, paid: int, percent: int) -> int:
    """The one rounding rule for refunds: whole cents, rounded down (the school never refunds more than its policy)."""
    if type(paid) is not int or type(percent) is not int or not 0 <= percent <= 100:
        raise ValueError("paid cents and a percent 0..100")
    return paid * percent // 100
