"""DATABASE_LOCK_TIMEOUT_SECONDS = 0 (behind PgBouncer, docs/operations.md) sets no lock timeout: the
session's own (there, the role's `ALTER ROLE ... SET lock_timeout`) stays in force on every path that
sets one per transaction, the ledger's and the database functions'. Any other value is set for the
transaction. VOUCHER_LOCK_TIMEOUT_MS, the redemption's own, follows the same rule.

Each path runs inside the test's transaction (not transaction=True), so `SHOW lock_timeout` afterwards
reads what the path left: a SET LOCAL lasts until the transaction ends.
"""

import uuid

import pytest
import time_machine
from django.db import connection, transaction

from core import clock
from core.locks import lock_timeout_set, lock_timeout_setting
from tests.canteen.conftest import MONDAY_MORNING, WEDNESDAY, make_canteen
from tests.events.conftest import make_event, sign
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    SchoolFactory,
    StaffFactory,
    StudentCardFactory,
    StudentFactory,
    give_card_money,
    give_wallet_money,
)
from vouchers.redeem_decision import redeem_decide
from wallet import ledger

pytestmark = pytest.mark.django_db

SESSION_LOCK_TIMEOUT = "1234ms"  # stands for the role's: no code path of ours sets this value


def session_lock_timeout_set() -> None:
    """What a connection opened without `-c lock_timeout` has: the role's value (here, a plain SET)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{SESSION_LOCK_TIMEOUT}'")


def lock_timeout_now() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return cursor.fetchone()[0]


# Each path: `prepare(client_for, terminal_client)` builds its world and returns `run()`, the call that
# locks, made after the session's lock timeout is set. `run` asserts that the call succeeded: a failed
# request rolls back its savepoint, and with it any SET LOCAL it made.


def card_fund(client_for, terminal_client):  # wallet_card_transfer
    link = GuardianLinkFactory()
    give_wallet_money(link.guardian, 2000)
    client = client_for(link.guardian.user)

    def run():
        response = client.post(
            f"/api/v1/students/{link.student.pk}/card/fund", {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        assert response.status_code == 201, response.json()

    return run


def card_sale(client_for, terminal_client):  # wallet_card_charge
    link = GuardianLinkFactory()
    StudentCardFactory(student=link.student, identifier="CARD-0000-0042")
    give_card_money(link.student, 1000)
    client = terminal_client(MerchantFactory(school=link.student.school))

    def run():
        response = client.post(
            "/api/v1/terminal/charges", {"card_identifier": "CARD-0000-0042", "amount": 300}, format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        assert response.status_code == 201, response.json()

    return run


def ledger_lock(client_for, terminal_client):  # wallet/ledger.py's lock_accounts, through core/locks.py
    wallet = give_wallet_money(GuardianLinkFactory().guardian, 100)

    def run():
        with transaction.atomic():
            assert ledger.lock_accounts([wallet.pk])[wallet.pk].balance == 100

    return run


def canteen_preorder(client_for, terminal_client):  # canteen_order_place
    with time_machine.travel(MONDAY_MORNING, tick=False):
        canteen = make_canteen(client_for)

    def run():
        with time_machine.travel(MONDAY_MORNING, tick=False):
            response = canteen.order([(canteen.juice, 1)], day=WEDNESDAY)
        assert response.status_code == 201, response.json()

    return run


def event_signup(client_for, terminal_client):  # events_signup_sign
    school = SchoolFactory()
    admin = StaffFactory(school=school, roles=["admin"])
    link = GuardianLinkFactory(student=StudentFactory(school=school, year_level=4, roll_class="4B"))
    event = make_event(admin, cost=0)
    client = client_for(link.guardian.user)

    def run():
        response = sign(client, event, link.student.pk)
        assert response.status_code == 201, response.json()

    return run


PATHS = [card_fund, card_sale, ledger_lock, canteen_preorder, event_signup]


@pytest.mark.parametrize(
    ("configured_seconds", "expected"),
    [(0, SESSION_LOCK_TIMEOUT), (5, "5s")],  # at 0 before the fix: '0', no timeout at all
    ids=["0-leaves-the-sessions", "5-is-set"],
)
@pytest.mark.parametrize("prepare", PATHS, ids=[path.__name__ for path in PATHS])
def test_the_lock_timeout_a_path_leaves(prepare, configured_seconds, expected, settings, client_for, terminal_client):
    run = prepare(client_for, terminal_client)
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = configured_seconds
    session_lock_timeout_set()

    run()

    assert lock_timeout_now() == expected


@pytest.mark.parametrize(("configured_ms", "expected"), [(0, SESSION_LOCK_TIMEOUT), (3000, "3s")])
def test_a_voucher_redemption_sets_its_own_lock_timeout_unless_it_is_0(configured_ms, expected, settings, terminal_client):
    """vouchers_redeem with no voucher answers voucher_not_found, after setting the timeout and locking nothing."""
    terminal = terminal_client(MerchantFactory()).terminal
    settings.VOUCHER_LOCK_TIMEOUT_MS = configured_ms
    session_lock_timeout_set()

    decision = redeem_decide(
        voucher_ids=[], terminal=terminal, amount=100, category=None, description="", memo="", reference=uuid.uuid4().hex,
        now=clock.now(), term_since=None, term_until=None,
    )

    assert decision.code == "voucher_not_found"
    assert lock_timeout_now() == expected


def test_the_setting_as_postgresql_reads_it_and_none_for_0(settings):
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 2.5
    assert lock_timeout_setting() == "2500ms"
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 0
    assert lock_timeout_setting() is None


def test_an_explicit_timeout_is_set_even_when_the_setting_is_0(settings):
    settings.DATABASE_LOCK_TIMEOUT_SECONDS = 0
    session_lock_timeout_set()
    with transaction.atomic():
        lock_timeout_set()
        assert lock_timeout_now() == SESSION_LOCK_TIMEOUT
        lock_timeout_set(seconds=0.2)
        assert lock_timeout_now() == "200ms"
