"""The locked part of a sign-up, as two calls to the functions of events/sql/signup_place.pg.sql.

Every sign-up to an event queues on the event's row lock, so a burst of 200 families is as fast as
the time that lock is held. Here it is held for two round trips: `place` (lock, re-check what the
caller checked, place or waitlist, write the sign-up, lock the chain) and `consent_append` (the
record and the chain's new head), with the record's hash computed in Python in between.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from events.canonical import sha256_hex
from events.chain import record_hash
from events.models import HOLDS_PLACE, LIVE, UNPAID_PLACE, ConsentRecord, Event, Signup
from guardians.models import GuardianLink
from wallet.locks import lock_timeout_setting

_PLACE = "SELECT * FROM events_signup_place(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s, %s, %s)"
_APPEND = "SELECT * FROM events_consent_append(%s::jsonb, %s, %s)"
_JSON = DjangoJSONEncoder()


@dataclass(frozen=True)
class Placed:
    code: str  # placed, stale, places_to_release, already_signed_up, waitlist_full
    signup: Signup | None
    sequence: int | None
    previous_hash: str | None


def place(*, event: Event, link: GuardianLink, leaving_day: date, now: datetime) -> Placed:
    """Lock the event, the link and the chain; write the sign-up if the checked facts still hold."""
    params = [
        event.pk,
        event.school_id,
        link.pk,
        event.status,
        event.signup_deadline,
        event.starts_at,
        _JSON.encode(event.eligible_year_levels),
        _JSON.encode(event.eligible_classes),
        event.consent_form_id,
        leaving_day,
        list(HOLDS_PLACE),
        list(UNPAID_PLACE),
        list(LIVE),
        now,
        lock_timeout_setting(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_PLACE, params)
        code, signup_id, status, amount_due, payment_due_at, waitlisted_at, sequence, previous_hash = cursor.fetchone()
    if code != "placed":
        return Placed(code, None, None, None)
    signup = Signup(
        pk=signup_id,
        event=event,
        student=link.student,
        guardian=link.guardian,
        link=link,
        status=status,
        created_at=now,
        status_changed_at=now,
        waitlisted_at=waitlisted_at,
        payment_due_at=payment_due_at,
        amount_due=amount_due,
    )
    return Placed(code, signup, sequence, previous_hash)


def consent_append(record: ConsentRecord, *, sequence: int, previous_hash: str, now: datetime) -> ConsentRecord:
    """Hash `record` (unsaved, every fact set) at its place in the locked chain, and save it with the new head."""
    record.event_chain = True
    record.signed_at = record.signed_at.astimezone(UTC)  # what the database gives back: UTC, microseconds
    record.sequence = sequence
    record.previous_hash = previous_hash
    record.signature_png_sha256 = sha256_hex(bytes(record.signature_png))
    record.record_hash = record_hash(record, previous_hash)
    facts = {
        "school_id": record.school_id,
        "sequence": sequence,
        "event_id": record.event_id,
        "signup_id": record.signup_id,
        "guardian_id": record.guardian_id,
        "link_id": record.link_id,
        "student_id": record.student_id,
        "form_version_id": record.form_version_id,
        "form_hash": record.form_hash,
        "answers": record.answers,
        "signature_strokes": record.signature_strokes,
        "signature_png_sha256": record.signature_png_sha256,
        "typed_name": record.typed_name,
        "statement": record.statement,
        "signed_at": record.signed_at.isoformat(),
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
        "previous_hash": previous_hash,
        "record_hash": record.record_hash,
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPEND, [_JSON.encode(facts), bytes(record.signature_png), now])
        code, record_id = cursor.fetchone()
    if code != "appended":
        raise RuntimeError(f"the consent chain of event {record.event_id} moved under its lock ({code})")
    record.pk = record_id
    record.created_at = now
    return record
