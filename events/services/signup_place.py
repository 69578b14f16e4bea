"""A sign-up's decision and writes as one statement: `events_signup_sign` (events/sql/signup_sign.pg.sql).

Every sign-up to an event queues on the event's row lock, so a burst of 200 families is as fast as
the time that lock is held. Called outside a transaction, the function's statement is its own
transaction: the lock is taken, the sign-up, its consent record, the outbox rows of its notice and
webhooks are written and committed in one round trip, with no client round trip in between.

The consent record's hash is events/chain.py's, over the record's canonical JSON. Two of its facts,
the chain sequence and the sign-up's id, are only known under the lock, so the JSON is sent cut in
three where they go, and the function hashes previous_hash, the pieces and the two numbers.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from core.jobs import send_after_commit
from core.locks import lock_timeout_setting
from events.canonical import canonical_json
from events.chain import record_content
from events.models import HOLDS_PLACE, LIVE, UNPAID_PLACE, ConsentRecord, Event, Signup
from guardians.models import GuardianLink

_CALL = (
    "SELECT * FROM events_signup_sign(%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s,"
    " %s::jsonb, %s, %s, %s, %s, %s, %s, %s)"
)
NOTICE_TASK = "events.tasks.signup_signed_notice"
DELIVERY_TASK = "core.tasks.deliver_webhook"
_JSON = DjangoJSONEncoder()


@dataclass(frozen=True)
class Signed:
    code: str  # placed, stale, places_to_release, already_signed_up, waitlist_full
    signup: Signup | None


def canonical_pieces(record: ConsentRecord) -> list[str]:
    """The record's canonical JSON (events/chain.py), cut where its sequence and sign-up id go."""
    marker = secrets.token_hex(16)  # a fresh marker cannot occur in the guardian's own text
    sequence, signup_id = f"sequence-{marker}", f"signup-{marker}"
    content = {**record_content(record), "sequence": sequence, "signup_id": signup_id}
    text = canonical_json(content).decode("utf-8")
    before, _, rest = text.partition(f'"{sequence}"')
    between, _, after = rest.partition(f'"{signup_id}"')
    if not after or marker in before + between + after:
        raise ValueError("the canonical record could not be cut at its sequence and sign-up id")
    return [before, between, after]


def signup_sign_call(*, event: Event, link: GuardianLink, leaving_day: date, record: ConsentRecord, now: datetime) -> Signed:
    """Lock, re-check, place and write. `record` is unsaved with every fact but its place in the chain."""
    record.event_chain = True
    record.signed_at = now.astimezone(UTC)  # what the database gives back: UTC, microseconds
    facts = {
        "form_hash": record.form_hash, "answers": record.answers, "signature_strokes": record.signature_strokes,
        "signature_png_sha256": "", "typed_name": record.typed_name,
        "statement": record.statement, "ip_address": record.ip_address, "user_agent": record.user_agent,
    }
    params = [
        event.pk, event.school_id, link.pk,
        event.status, event.signup_deadline, event.starts_at,
        _JSON.encode(event.eligible_year_levels), _JSON.encode(event.eligible_classes), event.consent_form_id,
        leaving_day, list(HOLDS_PLACE), list(UNPAID_PLACE), list(LIVE),
        _JSON.encode(facts), b"", canonical_pieces(record),  # no PNG: it is rendered later (events/documents.py)
        NOTICE_TASK, DELIVERY_TASK, record.signed_at, _JSON.default(record.signed_at), lock_timeout_setting(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_CALL, params)
        row = cursor.fetchone()
    (code, signup_id, status, amount_due, payment_due_at, waitlisted_at,
     record_id, record_hash, notice_job_id, delivery_ids, delivery_job_ids) = row
    if code != "placed":
        return Signed(code, None)
    signup = Signup(
        pk=signup_id, event=event, student=link.student, guardian=link.guardian, link=link, status=status,
        created_at=now, status_changed_at=now, waitlisted_at=waitlisted_at, payment_due_at=payment_due_at, amount_due=amount_due,
    )
    record.pk, record.signup, record.created_at, record.record_hash = record_id, signup, now, record_hash
    signup.consent = record
    send_after_commit(NOTICE_TASK, notice_job_id, [signup_id, status])
    for delivery_id, job_id in zip(delivery_ids or [], delivery_job_ids or [], strict=True):
        send_after_commit(DELIVERY_TASK, job_id, [delivery_id])
    return Signed(code, signup)
