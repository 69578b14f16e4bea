"""A school's day and week in its own time zone, across daylight-saving changes (Sydney) and none (Perth)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core import school_time
from tests.factories import SchoolFactory, give_card_money
from tests.wallet.test_cards import charge
from wallet.models import SpendingControls

pytestmark = pytest.mark.django_db
UTC = UTC


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "start", "hours"),
    [
        # Sydney springs forward on Sunday 4 October 2026: a 23-hour day.
        ("Australia/Sydney", "2026-10-04T05:00:00", "2026-10-03T14:00:00", 23),
        # ...and falls back on Sunday 5 April 2026: a 25-hour day.
        ("Australia/Sydney", "2026-04-05T05:00:00", "2026-04-04T13:00:00", 25),
        ("Australia/Sydney", "2026-11-25T23:00:00", "2026-11-25T13:00:00", 24),
        # Perth has no daylight saving: always UTC+8.
        ("Australia/Perth", "2026-10-04T05:00:00", "2026-10-03T16:00:00", 24),
        ("Australia/Perth", "2026-04-05T05:00:00", "2026-04-04T16:00:00", 24),
    ],
)
def test_day_window(zone, at, start, hours):
    school = SchoolFactory.build(time_zone=zone)
    window = school_time.day_window(school, at=utc(at))
    assert window == (utc(start), utc(start) + timedelta(hours=hours))


@pytest.mark.parametrize(
    ("zone", "week_starts_on", "at", "start", "hours"),
    [
        # The week of the spring change (Mon 28 Sep - Sun 4 Oct) is an hour short.
        ("Australia/Sydney", 0, "2026-10-02T01:00:00", "2026-09-27T14:00:00", 167),
        # The week of the autumn change is an hour long.
        ("Australia/Sydney", 0, "2026-04-01T01:00:00", "2026-03-29T13:00:00", 169),
        ("Australia/Perth", 0, "2026-10-02T01:00:00", "2026-09-27T16:00:00", 168),
        # A school whose week starts on Sunday.
        ("Australia/Perth", 6, "2026-10-02T01:00:00", "2026-09-26T16:00:00", 168),
    ],
)
def test_week_window(zone, week_starts_on, at, start, hours):
    school = SchoolFactory.build(time_zone=zone, week_starts_on=week_starts_on)
    window = school_time.week_window(school, at=utc(at))
    assert window == (utc(start), utc(start) + timedelta(hours=hours))


@pytest.mark.parametrize(
    ("zone", "last_moment_of_day", "first_moment_of_next"),
    [
        ("Australia/Sydney", "2026-10-03T13:59:59", "2026-10-03T14:00:00"),  # midnight before the DST change
        ("Australia/Sydney", "2026-10-04T12:59:59", "2026-10-04T13:00:00"),  # the 23-hour day ends at 13:00 UTC
        ("Australia/Perth", "2026-10-04T15:59:59", "2026-10-04T16:00:00"),
    ],
)
def test_daily_cap_resets_at_local_midnight(card_world, zone, last_moment_of_day, first_moment_of_next):
    card_world.student.school.time_zone = zone
    card_world.student.school.save()
    give_card_money(card_world.student, 5000)
    SpendingControls.objects.create(student=card_world.student, daily_cap=300)

    with time_machine.travel(utc(last_moment_of_day), tick=False):
        assert charge(card_world, 300).status_code == 201
        assert charge(card_world, 1).json()["code"] == "daily_cap_exceeded"
    with time_machine.travel(utc(first_moment_of_next), tick=False):
        assert charge(card_world, 300).status_code == 201


def test_weekly_cap_resets_on_the_schools_first_day_of_week(card_world):
    give_card_money(card_world.student, 5000)
    SpendingControls.objects.create(student=card_world.student, weekly_cap=500)

    with time_machine.travel(utc("2026-10-04T12:59:59"), tick=False):  # Sunday 23:59:59 in Sydney (DST day)
        assert charge(card_world, 500).status_code == 201
        assert charge(card_world, 1).json()["code"] == "weekly_cap_exceeded"
    with time_machine.travel(utc("2026-10-04T13:00:00"), tick=False):  # Monday 00:00 AEDT
        assert charge(card_world, 500).status_code == 201
