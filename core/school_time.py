"""A school's local day and week, as UTC instants.

Caps, cut-offs and expiry are judged in the school's time zone at request time.
Windows are half-open [start, end) and built from local midnights, so the
23- and 25-hour days at daylight-saving changes come out right.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from core import clock


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
    return datetime.combine(day, moment, tzinfo=ZoneInfo(school.time_zone)).astimezone(UTC)
