"""What one sign-up costs: its statements, the one statement that decides and writes it (its own
transaction: events/sql/signup_sign.pg.sql), never the school's chain, and the CPU it spends in the
web process."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Notification
from events.chain import consent_chain_verify
from events.models import ConsentEventChain, ConsentRecord
from tests.events.conftest import family, make_event, sign

pytestmark = pytest.mark.django_db(transaction=True)

# Before the one statement that locks, writes and commits: the session, the view's link, then the
# event and the link read and judged (a leaving decision is judged by the statement, and read here
# only when it answers 'stale'). After it, only the outbox row handed to the broker. (Was 32
# statements, in a transaction holding the event's lock for 17 of them, with the sign-up written
# through the ORM; 5 reads before it until the leaving check moved.)
MAX_READS_BEFORE_THE_SIGNUP = 4


def test_a_signup_is_decided_written_and_committed_by_one_statement(world, client_for):
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
    signing = [index for index, sql in enumerate(statements) if "events_signup_sign" in sql]
    assert len(signing) == 1
    before = statements[: signing[0]]
    # Before the statement: reads only, no lock, no transaction (the statement is its own).
    assert all(sql.lstrip().startswith("SELECT") for sql in before), before
    assert not any("FOR UPDATE" in sql for sql in before)
    assert not any("events_consentchain" in sql for sql in statements)  # never the school's legacy chain
    assert ConsentEventChain.objects.get(event=event).length == ConsentRecord.objects.filter(event=event).count() == 2
    record = ConsentRecord.objects.get(event=event, sequence=2)
    assert response.json()["consent_id"] == record.pk and record.signup_id == response.json()["id"]
    assert consent_chain_verify(school=world.school).valid  # the hash the database computed is the chain's
    assert Notification.objects.filter(user=second.guardian.user, kind="event_signup", data__signup_id=record.signup_id).count() == 1
    print(f"\nsign-up: {len(before)} reads and one statement, {cpu_ms:.1f} ms CPU in process (the jobs included)")
    assert len(before) <= MAX_READS_BEFORE_THE_SIGNUP
