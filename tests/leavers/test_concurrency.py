"""Concurrency proofs on PostgreSQL: a leaver marked while terminals charge the card, the processing and
the de-identification run several times at once. Money is neither created nor lost, and nothing happens twice."""

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEntry
from core import clock
from core.school_time import school_today
from guardians.leavers import leaver_mark, leaver_process
from guardians.leavers_models import StudentLeaver
from guardians.models import Student
from guardians.retention import leaver_deidentify
from tests.concurrency import run_concurrently
from tests.leavers.conftest import CARD_NUMBER, card_balance, make_family, wallet_balance
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import CardCharge, CardStatus, LedgerTransaction

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
CHARGES_EACH = 4
PRICE = 25


def test_marking_a_leaver_while_terminals_charge_the_card_neither_creates_nor_loses_money(client_for, terminal_client):
    family = make_family(client_for, terminal_client)  # 2000 + 1000 on the card
    wallets_before = wallet_balance(family.link) + wallet_balance(family.other_link)
    raw_key, student_id, admin = family.terminal_client.raw_key, family.student.pk, family.admin.user
    today = school_today(family.canteen.school)

    def charge():
        client = APIClient()
        client.credentials(HTTP_X_TERMINAL_KEY=raw_key)
        response = client.post(
            "/api/v1/terminal/charges", {"card_identifier": CARD_NUMBER, "amount": PRICE}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        return response.status_code, response.json().get("code")

    def work(i):
        # Every thread charges in turn; one marks the leaver between its charges, so the closing lands
        # in the middle of the stream of charges rather than before it.
        outcomes = [charge() for _ in range(CHARGES_EACH // 2)]
        if i == THREADS // 2:
            leaver = leaver_mark(student=Student.objects.select_related("school").get(pk=student_id), leaving_on=today, reason="moved", marked_by=admin)
            outcomes.append(("marked", leaver.processed_at is not None))
        return outcomes + [charge() for _ in range(CHARGES_EACH - CHARGES_EACH // 2)]

    outcomes = Counter(outcome for outcomes in run_concurrently(work, THREADS) for outcome in outcomes)

    approved, frozen = outcomes[(201, None)], outcomes[(402, "card_frozen")]
    assert outcomes[("marked", True)] == 1, outcomes
    assert approved + frozen + outcomes[(402, "insufficient_funds")] == THREADS * CHARGES_EACH, outcomes
    assert CardCharge.objects.count() == approved
    assert accounts.merchant_payable(family.canteen.settings.merchant).balance == approved * PRICE
    assert card_balance(family.student) == 0
    # What was not spent before the card closed went back to the two wallets, to the cent.
    assert wallet_balance(family.link) + wallet_balance(family.other_link) == wallets_before + 3000 - approved * PRICE
    family.card.refresh_from_db()
    assert family.card.status == CardStatus.CLOSED
    assert_ledger_consistent()


def test_processing_a_leaver_many_times_at_once_returns_the_balance_once(client_for, terminal_client):
    family = make_family(client_for, terminal_client)
    wallets_before = wallet_balance(family.link) + wallet_balance(family.other_link)
    today = school_today(family.canteen.school)
    leaver = StudentLeaver.objects.create(student=family.student, leaving_on=today, marked_by=family.admin.user, retain_until=today)

    results = run_concurrently(lambda _: leaver_process(leaver_id=leaver.pk), 8)

    assert sum(results) == 1
    assert LedgerTransaction.objects.filter(kind="leaver_card_return").count() == 1
    assert wallet_balance(family.link) + wallet_balance(family.other_link) == wallets_before + 3000
    assert card_balance(family.student) == 0
    assert AuditEntry.objects.filter(action="student.leaver_process").count() == 1
    assert_ledger_consistent()


def test_de_identifying_many_times_at_once_does_it_once(client_for, terminal_client):
    family = make_family(client_for, terminal_client)
    today = school_today(family.canteen.school)
    leaver = StudentLeaver.objects.create(
        student=family.student, leaving_on=today, marked_by=family.admin.user, retain_until=today, processed_at=clock.now()
    )

    results = run_concurrently(lambda _: leaver_deidentify(leaver_id=leaver.pk), 8)

    assert sum(results) == 1
    assert Student.objects.get(pk=family.student.pk).first_name == "Former"
    assert AuditEntry.objects.filter(action="student.deidentify").count() == 1
