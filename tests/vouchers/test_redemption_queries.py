"""What one redemption costs the database: one call decides and writes it, one commit makes it true,
and the program's funding account is neither locked nor written (each voucher's value is reserved)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from tests.vouchers.conftest import redeem
from tests.vouchers.factories import app_qr, issue
from vouchers.models import Redemption
from wallet.models import Entry, Terminal

pytestmark = pytest.mark.django_db(transaction=True)

# The whole request as the statements show it: the terminal key, then one transaction: BEGIN, the
# Idempotency-Key's claim, the voucher look-up, the decision with every write and the webhook outbox
# (one call, which also answers the receipt's rows), the stored answer, COMMIT. Was 17 queries and 3
# commits before the decision moved into the database, 11 while the webhook's subscriptions were read
# apart and the call ran in a savepoint, 8 while the receipt was read back after the call.
QUERIES_PER_REDEMPTION = 7


def _next_xid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def counted(work):
    """(work's result, the SQL it ran, how many transactions it committed that wrote something).

    Every transaction that writes takes a transaction id, and only those pay for a durable commit:
    the ids handed out while `work` ran are its committing writes (the throwaway server runs nothing else).
    """
    Terminal.objects.update(last_used_at=clock.now())  # its once-a-minute stamp is not part of a redemption
    before = _next_xid()
    with CaptureQueriesContext(connection) as queries:
        result = work()
    return result, [query["sql"] for query in queries.captured_queries], _next_xid() - before


def test_a_redemption_is_one_decision_call_and_never_touches_the_programs_funding(world):
    [voucher] = issue(world.program, link=world.link)
    funding_entries = Entry.objects.filter(account_id=world.program.funding_account_id).count()

    response, statements, commits = counted(lambda: redeem(world.terminal_client, [{"qr": app_qr(voucher)}], 6000))

    assert response.status_code == 201, response.content
    assert sum("vouchers_redeem(" in sql for sql in statements) == 1
    assert not any("FOR UPDATE" in sql and "wallet_account" in sql for sql in statements)
    assert Entry.objects.filter(account_id=world.program.funding_account_id).count() == funding_entries
    assert sorted(Redemption.objects.get().transaction.entries.values_list("account_id", flat=True)) == sorted(
        [voucher.reserve_account_id, Entry.objects.filter(amount=6000).get().account_id]
    )
    # The key, the money and the answer are one transaction with one commit.
    begin, decision, commit = statements.index("BEGIN"), next(i for i, sql in enumerate(statements) if "vouchers_redeem(" in sql), statements.index("COMMIT")
    assert statements.count("BEGIN") == statements.count("COMMIT") == 1 and begin < decision < commit
    assert statements[commit + 1 :] == []  # nothing after the commit (savepoints still take ids of their own)
    print(f"\nredemption: {len(statements)} statements (BEGIN and COMMIT included), {commits} committed write transactions")
    assert len(statements) == QUERIES_PER_REDEMPTION, "\n".join(sql[:90] for sql in statements)


def test_the_receipt_built_from_the_calls_answer_is_the_redemption_as_stored(world):
    """The answer is made from what vouchers_redeem returned, not read back: it must match the
    redemption as the merchant's list reads it from the database, lines and vouchers' values included."""
    first, second = issue(world.program, link=world.link), issue(world.program)
    redeem(world.terminal_client, [{"qr": app_qr(first[0])}], 2500)

    response = redeem(world.terminal_client, [{"qr": app_qr(first[0])}], 4000)
    other = redeem(world.terminal_client, [{"qr": app_qr(second[0])}], 100)

    assert response.status_code == other.status_code == 201, (response.content, other.content)
    assert response.json()["lines"][0]["remaining_value"] == first[0].face_value - 6500
    listed = {row["redemption_id"]: row for row in world.terminal_client.get("/api/v1/terminal/voucher-redemptions").json()["results"]}
    assert listed[response.json()["redemption_id"]] == response.json()
    assert listed[other.json()["redemption_id"]] == other.json()
