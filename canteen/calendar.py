"""When a school's canteen serves, and until when it takes orders. Judged at request time."""

from datetime import date, datetime, timedelta

from canteen.errors import OrderingClosed, SchoolClosed, TooFarAhead
from canteen.models import CanteenSettings
from guardians import clock, school_time
from guardians.models import ClosureDay, School, Term
from guardians.prepared import PreparedRead

# Asked on every order: compiled once (guardians/prepared.py).
_TERMS = PreparedRead(lambda school_id: Term.objects.filter(school_id=school_id).order_by("pk"), school_id=int)
_CLOSURE = PreparedRead(
    lambda school_id, day: ClosureDay.objects.filter(school_id=school_id, date=day).only("id")[:1], school_id=int, day=date
)


def is_service_day(school: School, settings: CanteenSettings, day: date) -> bool:
    """A weekday the canteen serves, inside a term (when terms are recorded), and not a closure day."""
    if day.weekday() not in settings.service_weekdays:
        return False
    terms = _TERMS.all(school_id=school.pk)
    if terms and not any(term.starts_on <= day <= term.ends_on for term in terms):
        return False
    return _CLOSURE.first(school_id=school.pk, day=day) is None


def cutoff_instant(school: School, day: date) -> datetime:
    return school_time.local_instant(school, day, school.canteen_cutoff)


def late_cutoff_instant(school: School, settings: CanteenSettings, day: date) -> datetime | None:
    if settings.late_cutoff is None:
        return None
    return school_time.local_instant(school, day, settings.late_cutoff)


def check_orderable(school: School, settings: CanteenSettings, day: date, *, now: datetime | None = None) -> bool:
    """Raise unless orders for `day` are open now. Returns True when only the late window is open.

    The cut-off is exclusive: 08:29:59.999 is in time, 08:30:00.000 is not.
    """
    now = now or clock.now()
    today = school_time.school_today(school, at=now)
    if day < today:
        raise OrderingClosed("That day has passed.")
    if day > today + timedelta(weeks=settings.max_weeks_ahead):
        raise TooFarAhead(max_weeks_ahead=settings.max_weeks_ahead)
    if not is_service_day(school, settings, day):
        raise SchoolClosed()
    if now < cutoff_instant(school, day):
        return False
    late_until = late_cutoff_instant(school, settings, day)
    if late_until is not None and now < late_until:
        return True
    raise OrderingClosed()


def ordering_open(school: School, settings: CanteenSettings, day: date) -> bool:
    try:
        check_orderable(school, settings, day)
    except (OrderingClosed, SchoolClosed, TooFarAhead):
        return False
    return True
