"""The one place the application reads the clock, so tests can move it (time-machine)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def local_now(zone: str) -> datetime:
    return now().astimezone(ZoneInfo(zone))


def local_today(zone: str) -> date:
    return local_now(zone).date()
