"""Wall-clock times on Sydney's daylight-saving days: one the clocks skip is refused when a client
gives it and never moves a stored cut-off later; one that happens twice is its first occurrence."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core import school_time
from core.errors import NonexistentLocalTime
from tests.factories import SchoolFactory

SYDNEY = ZoneInfo("Australia/Sydney")
SPRING_FORWARD = date(2027, 10, 3)  # 02:00 AEST becomes 03:00 AEDT
FALL_BACK = date(2027, 4, 4)  # 03:00 AEDT becomes 02:00 AEST


def test_a_time_the_clocks_skip_is_refused_with_its_code():
    with pytest.raises(NonexistentLocalTime) as refused:
        school_time.wall_clock_instant(SYDNEY, datetime(2027, 10, 3, 2, 30))

    assert refused.value.code == "nonexistent_local_time"
    assert refused.value.details == {"local_time": "2027-10-03T02:30:00", "time_zone": "Australia/Sydney"}


@pytest.mark.parametrize(
    ("local", "instant"),
    [
        (datetime(2027, 10, 3, 1, 59, 59), "2027-10-02T15:59:59+00:00"),  # the last second before the jump (AEST)
        (datetime(2027, 10, 3, 3, 0), "2027-10-02T16:00:00+00:00"),  # the first after it (AEDT)
        (datetime(2027, 4, 4, 2, 30), "2027-04-03T15:30:00+00:00"),  # twice that night: the first, still AEDT
        (datetime(2027, 4, 4, 3, 0), "2027-04-03T17:00:00+00:00"),  # once, AEST
    ],
)
def test_times_that_happen_resolve_to_one_instant(local, instant):
    assert school_time.wall_clock_instant(SYDNEY, local).isoformat() == instant


@pytest.mark.django_db
def test_a_stored_cutoff_in_the_gap_is_the_instant_of_the_jump_never_later():
    school = SchoolFactory(time_zone="Australia/Sydney")

    in_gap = school_time.local_instant(school, SPRING_FORWARD, time(2, 30))
    ambiguous = school_time.local_instant(school, FALL_BACK, time(2, 30))

    assert in_gap == datetime(2027, 10, 2, 16, 0, tzinfo=UTC)  # the clocks read 03:00 AEDT, 01:59:59.999... was AEST
    assert ambiguous == datetime(2027, 4, 3, 15, 30, tzinfo=UTC)
    assert school_time.local_instant(school, SPRING_FORWARD, time(8, 30)) == datetime(2027, 10, 2, 21, 30, tzinfo=UTC)


def test_the_first_day_a_time_of_day_does_not_exist():
    assert school_time.first_nonexistent_day(SYDNEY, time(2, 30), start=date(2027, 1, 1)) == SPRING_FORWARD
    assert school_time.first_nonexistent_day(SYDNEY, time(3, 0), start=date(2027, 1, 1)) is None
    assert school_time.first_nonexistent_day(ZoneInfo("Australia/Perth"), time(2, 30), start=date(2027, 1, 1)) is None
