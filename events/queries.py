"""The events' hot reads as SQL (core/sql.py says why): the event a sign-up is judged on."""

from functools import cache

from core.sql import columns, fetch_one
from events.models import ConsentFormVersion, Event
from guardians.models import School


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
