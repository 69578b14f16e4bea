"""What one sign-up costs: its statements, the one transaction that writes it, the chain lock it takes
(its event's, never the school's), and the CPU it spends in the web process."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import ConsentEventChain, ConsentRecord
from tests.events.conftest import family, make_event, sign

pytestmark = pytest.mark.django_db(transaction=True)

# Session, link, event, then in one transaction: event and link locks, overdue places, existing
# sign-up, places taken, the sign-up, the event's chain (get or create, lock, record, head),
# notices and their outbox rows; around it, the Idempotency-Key's claim and stored answer, each in a
# transaction of its own (BEGIN, statement, COMMIT); and whether the child has left by the event's day.
MAX_STATEMENTS_PER_SIGNUP = 32


def test_a_signup_locks_its_events_chain_and_writes_in_one_transaction(world, client_for):
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
    locks = [sql for sql in statements if "FOR UPDATE" in sql]
    assert any("events_consenteventchain" in sql for sql in locks)
    assert not any("events_consentchain" in sql for sql in statements)
    # The Idempotency-Key's claim and stored answer are transactions of their own; the sign-up's
    # writes (consent, chain, sign-up, places) are all in one.
    transactions, current = [], None
    for sql in statements:
        if sql == "BEGIN":
            current = []
        elif sql == "COMMIT":
            transactions.append(current)
            current = None
        elif current is not None:
            current.append(sql)
    writing = [block for block in transactions if any(sql.startswith(("INSERT", "UPDATE")) and "events_" in sql for sql in block)]
    assert len(writing) == 1
    assert ConsentEventChain.objects.get(event=event).length == ConsentRecord.objects.filter(event=event).count() == 2
    print(f"\nsign-up: {len(statements)} statements (BEGIN and COMMIT included), {len(locks)} row locks, {cpu_ms:.1f} ms CPU in process")
    assert len(statements) <= MAX_STATEMENTS_PER_SIGNUP
