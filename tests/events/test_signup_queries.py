"""What one sign-up costs: its statements, the one transaction that writes it, the event's lock held
for two calls (events/sql/signup_place.pg.sql), never the school's chain, and the CPU it spends in the
web process."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import ConsentEventChain, ConsentRecord
from tests.events.conftest import family, make_event, sign

pytestmark = pytest.mark.django_db(transaction=True)

# Session, link; the event and the link read and checked; whether the child has left by the event's
# day; then one transaction: the place (event, link and chain locks, checks, the sign-up), the consent
# record with the chain's head, the notice and its outbox row; around it the Idempotency-Key's claim
# and stored answer, each in a transaction of its own (BEGIN, statement, COMMIT).
MAX_STATEMENTS_PER_SIGNUP = 24


def _transactions(statements: list[str]) -> list[list[str]]:
    blocks, current = [], None
    for sql in statements:
        if sql == "BEGIN":
            current = []
        elif sql == "COMMIT":
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(sql)
    return blocks


def test_a_signup_is_placed_and_its_consent_chained_in_one_transaction_of_two_calls(world, client_for):
    event = make_event(world.admin)
    assert sign(client_for(world.link.guardian.user), event, world.student.pk).status_code == 201  # the chain exists now

    second = family(world.school)
    client = client_for(second.guardian.user)
    started = time.process_time()
    with CaptureQueriesContext(connection) as queries:
        response = sign(client, event, second.student_id)
    cpu_ms = (time.process_time() - started) * 1000

    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    signing = statements[: statements.index("COMMIT")]  # after it, the notice's delivery (tasks run eagerly here)
    assert not any("FOR UPDATE" in sql for sql in signing)  # every lock is taken inside the functions
    assert not any("events_consentchain" in sql for sql in statements)  # never the school's legacy chain
    writing = [block for block in _transactions(statements) if any("events_signup_place" in sql for sql in block)]
    assert len(writing) == 1
    # Under the event's lock: the two calls first, then only the notice (no read, no other write).
    locked = writing[0]
    assert "events_signup_place" in locked[0] and "events_consent_append" in locked[1]
    assert not any(sql.startswith("SELECT") for sql in locked[2:])
    assert ConsentEventChain.objects.get(event=event).length == ConsentRecord.objects.filter(event=event).count() == 2
    record = ConsentRecord.objects.get(event=event, sequence=2)
    assert response.json()["consent_id"] == record.pk and record.signup_id == response.json()["id"]
    print(f"\nsign-up: {len(statements)} statements (BEGIN and COMMIT included), {len(locked)} under the event's lock, {cpu_ms:.1f} ms CPU in process")
    assert len(statements) <= MAX_STATEMENTS_PER_SIGNUP
