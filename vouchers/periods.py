"""Dates: issue windows, expiry, ages and terms. Pure functions of local dates.

Every caller passes a local `today` computed in the right zone (core.clock);
nothing here reads the clock.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from guardians.models import Term
from vouchers.models import ExpiryRule, IssueWindow, Program


def _month_day(year: int, month: int, day: int) -> date:
    """A month and day in a year; 29 February in a common year is the 28th."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def window_bounds(window: IssueWindow, year: int) -> tuple[date, date]:
    return _month_day(year, window.opens_month, window.opens_day), _month_day(year, window.closes_month, window.closes_day)


def window_is_open(window: IssueWindow, today: date) -> bool:
    opens, closes = window_bounds(window, today.year)
    return opens <= today <= closes


def program_takes_applications(program: Program, today: date) -> bool:
    return program.is_active and program.starts_on <= today and (program.ends_on is None or today <= program.ends_on)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return _month_day(year, month, day.day)


def expiry_date(*, program: Program, window: IssueWindow, issued_on: date) -> date:
    """The last local day a voucher issued on `issued_on` may be used.

    "N months after issue" means valid for N months: issued 15 July, 12 months,
    usable up to and including 14 July next year.
    """
    rule = window.expiry_rule or program.expiry_rule
    fixed = window.expiry_date if window.expiry_rule else program.expiry_date
    period = window.expiry_period if window.expiry_rule else program.expiry_period
    if rule == ExpiryRule.FIXED_DATE:
        return fixed
    if rule == ExpiryRule.END_OF_YEAR:
        return date(issued_on.year, 12, 31)
    if rule == ExpiryRule.MONTHS_AFTER_ISSUE:
        return add_months(issued_on, period) - timedelta(days=1)
    if rule == ExpiryRule.DAYS_AFTER_ISSUE:
        return issued_on + timedelta(days=period - 1)
    raise ValueError(f"unknown expiry rule {rule!r}")


def end_of_local_day(day: date, zone: str) -> datetime:
    """The instant a local day ends (the next local midnight), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def age_in_months(date_of_birth: date, on: date) -> int:
    months = (on.year - date_of_birth.year) * 12 + on.month - date_of_birth.month
    if on.day < date_of_birth.day:
        months -= 1
    return months


def age_reference(program: Program, today: date) -> date:
    if program.age_reference_month and program.age_reference_day:
        return _month_day(today.year, program.age_reference_month, program.age_reference_day)
    return today


def term_window(*, school_id: int | None, today: date) -> tuple[date, date]:
    """The "term" a redemption on `today` belongs to, as inclusive local dates.

    At a school: the term in progress, and in the holidays the term that follows
    (families sign up for next term's activity in the holidays), so each term owns the
    holidays before it. Without a school (adults), or past the last known term, a
    calendar quarter.
    """
    if school_id is not None:
        terms = list(Term.objects.filter(school_id=school_id).order_by("starts_on").values_list("starts_on", "ends_on"))
        for index, (starts_on, ends_on) in enumerate(terms):
            if ends_on >= today:
                begins = terms[index - 1][1] + timedelta(days=1) if index else min(starts_on, date(today.year, 1, 1))
                return begins, ends_on
    first_month = (today.month - 1) // 3 * 3 + 1
    last_month = first_month + 2
    return date(today.year, first_month, 1), date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
