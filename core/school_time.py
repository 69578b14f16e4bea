"""A school's local day and week, as UTC instants.

Caps, cut-offs and expiry are judged in the school's time zone at request time.
Windows are half-open [start, end) and built from local midnights, so the
23- and 25-hour days at daylight-saving changes come out right.

Wall-clock times on daylight-saving change days:
- A time the clocks jump over (02:30 on 2027-10-03 in Sydney) does not exist. Given by a client
  (`wall_clock_instant`), it is refused with `nonexistent_local_time`; a stored time of day that
  meets such a day (`local_instant`) is the instant the clocks jump, never later.
- A time that happens twice when the clocks fall back (02:30 on 2027-04-04 in Sydney) is its
  first occurrence, still on daylight time (fold=0), wherever it comes from.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from core import clock
from core.errors import NonexistentLocalTime


class School(Protocol):
    """What the kernel needs of a school (guardians.models.School): its zone and the day its week starts."""

    time_zone: str
    week_starts_on: int


def local_midnight(zone: ZoneInfo, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def school_today(school: School, *, at: datetime | None = None) -> date:
    return (at or clock.now()).astimezone(ZoneInfo(school.time_zone)).date()


def day_window(school: School, *, at: datetime | None = None) -> tuple[datetime, datetime]:
    zone = ZoneInfo(school.time_zone)
    today = school_today(school, at=at)
    return local_midnight(zone, today), local_midnight(zone, today + timedelta(days=1))


def week_window(school: School, *, at: datetime | None = None) -> tuple[datetime, datetime]:
    """The school week containing `at`, starting on the school's `week_starts_on` (0 = Monday)."""
    zone = ZoneInfo(school.time_zone)
    today = school_today(school, at=at)
    first = today - timedelta(days=(today.weekday() - school.week_starts_on) % 7)
    return local_midnight(zone, first), local_midnight(zone, first + timedelta(days=7))


def local_instant(school: School, day: date, moment: time) -> datetime:
    """The UTC instant of a wall-clock time at the school on a given day (e.g. the 08:30 cut-off)."""
    zone = ZoneInfo(school.time_zone)
    local = datetime.combine(day, moment)
    return local.replace(tzinfo=zone).astimezone(UTC) if exists(zone, local) else _gap_start(zone, local)


def wall_clock_instant(zone: ZoneInfo, local: datetime) -> datetime:
    """A client's wall-clock date and time (naive) in `zone`, as a UTC instant; refused if it never happens."""
    if not exists(zone, local):
        raise NonexistentLocalTime(local_time=local.isoformat(), time_zone=zone.key)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def exists(zone: ZoneInfo, local: datetime) -> bool:
    """Whether the naive wall-clock time happens in `zone` (a time in a spring-forward gap does not)."""
    aware = local.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def first_nonexistent_day(zone: ZoneInfo, moment: time, *, start: date, days: int = 3 * 366) -> date | None:
    """The first day from `start` (within `days`) on which the time of day does not exist, or None."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not exists(zone, datetime.combine(day, moment)):
            return day
    return None


def _gap_start(zone: ZoneInfo, local: datetime) -> datetime:
    """The instant the clocks jump over a gap that `local` falls in (gaps start on a whole minute).

    The gap's first wall-clock minute, read with the offset before the jump, is that instant."""
    start = local.replace(second=0, microsecond=0)
    while not exists(zone, start - timedelta(minutes=1)):
        start -= timedelta(minutes=1)
    return start.replace(tzinfo=zone, fold=0).astimezone(UTC)
