"""The events' hot reads as SQL (core/sql.py says why): the event a sign-up is judged on, and the
sign-up its notice job tells of."""

from functools import cache

from core.sql import columns, fetch_one
from events.models import ConsentFormVersion, Event, Signup
from guardians.models import Guardian, School, Student, User


@cache
def _event_with_form_sql() -> str:
    return f"""
        SELECT {columns(Event, "e")}, {columns(School, "sc")}, {columns(ConsentFormVersion, "f")}
          FROM events_event e
          JOIN guardians_school sc ON sc.id = e.school_id
          LEFT JOIN events_consentformversion f ON f.id = e.consent_form_id
         WHERE e.id = %s AND e.school_id = %s"""


def event_with_form(event_id: int, school_id: int) -> Event | None:
    """A school's event with its school and its current consent form version, read without a lock."""
    row = fetch_one(_event_with_form_sql(), [event_id, school_id], (Event, School, ConsentFormVersion))
    if row is None:
        return None
    event, school, form = row
    event.school, event.consent_form = school, form
    return event


@cache
def _signup_for_notice_sql() -> str:
    return f"""
        SELECT {columns(Signup, "s")}, {columns(Event, "e")}, {columns(School, "sc")}, {columns(Student, "st")},
               {columns(Guardian, "g")}, {columns(User, "u")}
          FROM events_signup s
          JOIN events_event e ON e.id = s.event_id
          JOIN guardians_school sc ON sc.id = e.school_id
          JOIN guardians_student st ON st.id = s.student_id
          JOIN guardians_guardian g ON g.id = s.guardian_id
          JOIN {User._meta.db_table} u ON u.id = g.user_id
         WHERE s.id = %s"""


def signup_for_notice(signup_id: int) -> Signup | None:
    """A sign-up with its event and school, its student, and the guardian who signed with their user:
    what a notice about it is written from (events/notices.py), in one read a burst's worker repeats."""
    row = fetch_one(_signup_for_notice_sql(), [signup_id], (Signup, Event, School, Student, Guardian, User))
    if row is None:
        return None
    signup, event, school, student, guardian, user = row
    event.school, signup.event, signup.student = school, event, student
    guardian.user, user.guardian, signup.guardian = user, guardian, guardian
    return signup
