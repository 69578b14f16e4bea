"""When a school's canteen serves, and until when each service period takes orders. Judged at request time."""

from datetime import date, datetime, timedelta

from django.db import connection

from canteen import periods
from canteen.errors import OrderingClosed, SchoolClosed, TooFarAhead
from canteen.models import CanteenSettings, ServicePeriod
from core import clock, school_time
from guardians.models import ClosureDay, School, Term


def is_service_day(school: School, settings: CanteenSettings, day: date, *, term_and_closure: tuple[bool, bool, bool] | None = None) -> bool:
    """A weekday the canteen serves, inside a term (when terms are recorded), and not a closure day.
    `term_and_closure`: the three facts `_term_and_closure` reads, when the caller read them already."""
    if day.weekday() not in settings.service_weekdays:
        return False
    has_terms, in_a_term, closed = term_and_closure or _term_and_closure(school.pk, day)
    return (in_a_term or not has_terms) and not closed


def _term_and_closure(school_id: int, day: date) -> tuple[bool, bool, bool]:
    """Whether the school records terms, whether `day` is in one, whether it is a closure day: asked by
    every order, so one plain statement rather than two ORM queries (docs/performance.md)."""
    when = connection.ops.adapt_datefield_value(day)
    terms, closures = Term._meta.db_table, ClosureDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {terms} WHERE school_id = %s), "
            f"EXISTS (SELECT 1 FROM {terms} WHERE school_id = %s AND starts_on <= %s AND ends_on >= %s), "
            f"EXISTS (SELECT 1 FROM {closures} WHERE school_id = %s AND date = %s)",
            [school_id, school_id, when, when, school_id, when],
        )
        return tuple(bool(answer) for answer in cursor.fetchone())


def cutoff_instant(school: School, day: date, period: ServicePeriod | None = None) -> datetime:
    """The period's cut-off on `day` (the default period's when none is given), by the school's wall clock."""
    period = period or periods.default_period(school)
    return school_time.local_instant(school, day, period.cutoff)


def late_cutoff_instant(school: School, period: ServicePeriod, day: date) -> datetime | None:
    if period.late_cutoff is None:
        return None
    return school_time.local_instant(school, day, period.late_cutoff)


def check_orderable(
    school: School,
    settings: CanteenSettings,
    day: date,
    *,
    period: ServicePeriod,
    now: datetime | None = None,
    term_and_closure: tuple[bool, bool, bool] | None = None,
) -> bool:
    """Raise unless orders for the period on `day` are open now. Returns True when only its late window is open.

    The cut-off is exclusive: 08:29:59.999 is in time, 08:30:00.000 is not. `term_and_closure`: as
    for is_service_day.
    """
    now = now or clock.now()
    today = school_time.school_today(school, at=now)
    if day < today:
        raise OrderingClosed("That day has passed.")
    if day > today + timedelta(weeks=settings.max_weeks_ahead):
        raise TooFarAhead(max_weeks_ahead=settings.max_weeks_ahead)
    if not is_service_day(school, settings, day, term_and_closure=term_and_closure):
        raise SchoolClosed()
    if now < cutoff_instant(school, day, period):
        return False
    late_until = late_cutoff_instant(school, period, day)
    if late_until is not None and now < late_until:
        return True
    raise OrderingClosed()


def ordering_open(school: School, settings: CanteenSettings, day: date, period: ServicePeriod) -> bool:
    try:
        check_orderable(school, settings, day, period=period)
    except (OrderingClosed, SchoolClosed, TooFarAhead):
        return False
    return True
