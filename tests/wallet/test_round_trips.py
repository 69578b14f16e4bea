"""What a card charge and a card funding cost the database: statements and committed write transactions.

Statements are counted with Django's CaptureQueriesContext; commits that write (each a WAL flush) are
counted from those statements: a COMMIT of a transaction that wrote, or a write in autocommit.
Nothing here depends on timing.
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from tests.factories import give_card_money, give_wallet_money
from wallet import accounts
from wallet.models import CardCharge, PaymentMethod, Terminal, TopUp

pytestmark = pytest.mark.django_db(transaction=True)


def shape(statements: list[str]) -> list[str]:
    """Each statement by what it is: its first words, or the function it calls."""
    named = []
    for sql in statements:
        words = sql.split()
        called = next((word.split("(")[0] for word in words if word.startswith("wallet_card_")), None)
        named.append(called or " ".join(words[:2]) if words[0] in ("SELECT", "UPDATE", "INSERT") else words[0])
    return named


def measure(call):
    """(response, statements the request ran, write transactions it committed).

    Terminals are marked used this minute first: their once-a-minute `last_used_at` stamp
    (wallet/terminal_keys.py) is bookkeeping of the first request in a minute, not part of a sale.
    """
    Terminal.objects.update(last_used_at=clock.now())
    with CaptureQueriesContext(connection) as queries:
        response = call()
    statements = [query["sql"] for query in queries.captured_queries]
    return response, statements, _commits(statements)


def _commits(statements: list[str]) -> int:
    """Commits that write: each COMMIT of a transaction that wrote, and each write outside one
    (autocommit). Counted from the statements, not from PostgreSQL's transaction ids: the other
    xdist worker shares the server and takes ids too."""
    commits, inside, wrote = 0, False, False
    for sql in statements:
        verb = sql.split()[0].upper()
        if verb == "BEGIN":
            inside, wrote = True, False
        elif verb == "COMMIT":
            commits += wrote
            inside = False
        elif verb in ("INSERT", "UPDATE", "DELETE") or "wallet_card_" in sql:
            if inside:
                wrote = True
            else:
                commits += 1
    return commits


def charge(world, key, amount=350):
    return lambda: world.terminal_client.post(
        "/api/v1/terminal/charges",
        {"card_identifier": world.card_number, "amount": amount, "categories": ["canteen"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def fund(world, key, amount=500):
    return lambda: world.guardian_client.post(
        f"/api/v1/students/{world.student.pk}/card/fund", {"amount": amount}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_card_charge_is_the_key_probe_the_claim_one_decision_and_the_stored_answer_in_one_commit(card_world):
    give_card_money(card_world.student, 1000)
    charge(card_world, "warm-up", amount=1)()  # the first request opens the merchant's payable

    response, statements, commits = measure(charge(card_world, uuid.uuid4().hex))

    assert response.status_code == 201, response.json()
    assert shape(statements) == [
        'SELECT t."id",',  # the terminal key, on every request
        "BEGIN",
        "WITH",  # the Idempotency-Key claimed
        "wallet_card_charge",  # the decision and every write
        "UPDATE api_idempotencyrecord",  # the answer stored
        "COMMIT",  # nothing after it: the decision said no automatic top-up is due
    ], statements
    assert commits == 1
    assert CardCharge.objects.count() == 2


def test_a_charge_leaving_the_card_above_the_automatic_top_up_threshold_reads_nothing_after_its_commit(card_world):
    PaymentMethod.objects.create(
        guardian=card_world.link.guardian, stripe_customer_id="cus_round_trips", stripe_payment_method_id="pm_card_visa",
        auto_topup_enabled=True, auto_topup_threshold=500, auto_topup_amount=2000,
    )
    give_card_money(card_world.student, 1000)
    charge(card_world, "warm-up", amount=1)()

    response, statements, commits = measure(charge(card_world, uuid.uuid4().hex, amount=400))  # 599 left

    assert response.status_code == 201, response.json()
    assert shape(statements)[-1] == "COMMIT", statements
    assert (commits, TopUp.objects.count()) == (1, 0)


def test_a_declined_charge_stores_its_answer_in_the_same_one_commit(card_world):
    response, statements, commits = measure(charge(card_world, "declined"))

    assert response.status_code == 402 and response.json()["code"] == "insufficient_funds"
    assert shape(statements) == ['SELECT t."id",', "BEGIN", "WITH", "wallet_card_charge", "UPDATE api_idempotencyrecord", "COMMIT"]
    assert commits == 1
    assert CardCharge.objects.count() == 0


def test_a_replayed_charge_moves_nothing_and_commits_nothing(card_world):
    give_card_money(card_world.student, 1000)
    first = charge(card_world, "same")()

    response, statements, commits = measure(charge(card_world, "same"))

    assert response.status_code == 201 and response.content == first.content
    assert response["Idempotent-Replayed"] == "true"
    assert commits == 0
    assert shape(statements) == ['SELECT t."id",', "BEGIN", "WITH", 'SELECT "api_idempotencyrecord"."id",', "COMMIT"]
    assert accounts.student_card_account(card_world.student).balance == 650


def test_a_card_funding_is_the_session_probe_the_claim_the_link_one_decision_and_the_answer_in_one_commit(card_world):
    give_wallet_money(card_world.link.guardian, 2000)
    fund(card_world, "warm-up", amount=1)()

    response, statements, commits = measure(fund(card_world, uuid.uuid4().hex))

    assert response.status_code == 201, response.json()
    assert response.json()["card_balance"] == 501 and response.json()["wallet_balance"] == 1499
    assert shape(statements) == [
        'SELECT a."id",',  # the session with its user, on every request
        "BEGIN",
        "WITH",
        'SELECT l."id",',  # the caller's link to the child, with the student, school, guardian and user (guardians/queries.py)
        "wallet_card_transfer",
        "UPDATE api_idempotencyrecord",
        "COMMIT",
    ], statements
    assert commits == 1
