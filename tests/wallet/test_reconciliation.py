"""Reconciliation: a clean ledger records nothing; each kind of corruption is found once, and shown to finance."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.db.models import F
from django.test import RequestFactory

from config.celery import app as celery_app
from config.celery_schedule import CELERY_BEAT_SCHEDULE
from core import clock
from guardians.models import StaffRole
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    MerchantFactory,
    StaffFactory,
    StudentCardFactory,
    UserFactory,
    give_wallet_money,
)
from tests.helpers import assert_problem
from wallet import accounts, cards, ledger
from wallet.models import Account, Entry, Hold, LedgerTransaction, ReconciliationIssue, TopUp, TopUpRefund
from wallet.reconciliation import reconciliation_run
from wallet.reconciliation_tasks import reconcile_ledger
from wallet.terminal_keys import terminal_create

pytestmark = pytest.mark.django_db

Kind = ReconciliationIssue.Kind
CARD_NUMBER = "CARD-5500-0007"


def topup_succeeded(guardian, amount: int, fee: int = 0) -> TopUp:
    """What a settled card top-up leaves behind: the TopUp row and its credit (clearing -> wallet and fees)."""
    legs = [ledger.Leg(accounts.processor_clearing().pk, -(amount + fee)), ledger.Leg(accounts.guardian_wallet(guardian).pk, amount)]
    if fee:
        legs.append(ledger.Leg(accounts.platform_fees().pk, fee))
    reference = f"topup:{uuid.uuid4().hex}"
    posted = ledger.transfer(kind="topup", reference=reference, legs=legs, actor="stripe")
    return TopUp.objects.create(
        guardian=guardian,
        amount=amount,
        fee=fee,
        payment_intent_id=f"pi_{uuid.uuid4().hex}",
        status=TopUp.Status.SUCCEEDED,
        credit_transaction=posted,
        succeeded_at=clock.now(),
    )


def topup_refunded(topup: TopUp, amount: int) -> TopUpRefund:
    posted = ledger.transfer(
        kind="topup_refund",
        reference=f"topup_refund:{uuid.uuid4().hex}",
        legs=[ledger.Leg(accounts.guardian_wallet(topup.guardian).pk, -amount), ledger.Leg(accounts.processor_clearing().pk, amount)],
        actor="stripe",
    )
    TopUp.objects.filter(pk=topup.pk).update(refunded_amount=F("refunded_amount") + amount)
    return TopUpRefund.objects.create(topup=topup, amount=amount, stripe_refund_id=f"re_{uuid.uuid4().hex}", transaction=posted)


@pytest.fixture
def busy_ledger():
    """Top-ups with a fee, a refund, card funding, charges, a charge refund and a pending hold."""
    link = GuardianLinkFactory()
    StudentCardFactory(student=link.student, identifier=CARD_NUMBER)
    terminal, _ = terminal_create(merchant=MerchantFactory(school=link.student.school), label="Counter")
    first = topup_succeeded(link.guardian, 5000, fee=75)
    topup_succeeded(link.guardian, 2000)
    topup_refunded(first, 1000)
    full = topup_succeeded(GuardianFactory(), 700, fee=20)
    topup_refunded(full, 700)
    TopUp.objects.filter(pk=full.pk).update(status=TopUp.Status.REFUNDED)
    cards.card_fund(link=link, amount=3000, reference=f"fund:{uuid.uuid4().hex}")
    charge = cards.card_charge(
        terminal=terminal, card_identifier=CARD_NUMBER, amount=450, categories=["canteen"], description="Lunch", idempotency_key="k1"
    ).charge
    cards.card_charge_refund(terminal=terminal, charge_id=charge.pk, amount=200, idempotency_key="r1")
    wallet = accounts.guardian_wallet(link.guardian)
    with transaction.atomic():
        locked = ledger.lock_accounts([wallet.pk, accounts.platform_fees().pk])
        ledger.hold_place_locked(
            accounts=locked,
            account_id=wallet.pk,
            counterparty_id=accounts.platform_fees().pk,
            amount=300,
            kind="test_hold",
            reference="hold:1",
            expires_at=clock.now() + timedelta(hours=1),
        )
    return link


@contextmanager
def triggers_off():
    """Write past the ledger's PostgreSQL triggers inside the block (the test database user is a superuser)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")


def issues():
    return list(ReconciliationIssue.objects.order_by("id").values("kind", "account_id", "transaction_id", "expected", "actual"))


# --- The checks --------------------------------------------------------------


def test_clean_ledger_records_nothing(busy_ledger):
    summary = reconciliation_run()

    assert summary.ok
    assert (summary.issues_found, summary.new_issues) == (0, 0)
    assert summary.checked_transactions == LedgerTransaction.objects.count() == 8
    assert summary.checked_accounts == Account.objects.count()
    assert issues() == []


def test_no_topups_and_no_accounts_is_clean():
    summary = reconciliation_run()
    assert (summary.ok, summary.checked_transactions, summary.checked_accounts) == (True, 0, 0)


def test_corrupted_cached_balance_is_found_once(busy_ledger):
    card_account = accounts.student_card_account(busy_ledger.student)
    Account.objects.filter(pk=card_account.pk).update(balance=F("balance") + 100)

    summary = reconciliation_run()

    assert (summary.ok, summary.issues_found, summary.new_issues) == (False, 1, 1)
    assert issues() == [
        {"kind": Kind.BALANCE_MISMATCH, "account_id": card_account.pk, "transaction_id": None, "expected": 2750, "actual": 2850}
    ]
    issue = ReconciliationIssue.objects.get()
    assert issue.detail == f"Account {card_account.pk}: cached balance 2850 but its entries sum to 2750."
    assert issue.resolved_at is None

    # The nightly run again: still one open issue, not two.
    again = reconciliation_run()
    assert (again.issues_found, again.new_issues) == (1, 0)
    assert ReconciliationIssue.objects.count() == 1

    # Once finance resolves it, a mismatch that is still there is recorded anew.
    ReconciliationIssue.objects.update(resolved_at=clock.now())
    assert reconciliation_run().new_issues == 1
    assert ReconciliationIssue.objects.filter(resolved_at__isnull=True).count() == 1


def test_corrupted_held_is_found(busy_ledger):
    wallet = accounts.guardian_wallet(busy_ledger.guardian)
    Account.objects.filter(pk=wallet.pk).update(held=0)

    summary = reconciliation_run()

    assert summary.issues_found == 1
    assert issues() == [{"kind": Kind.HELD_MISMATCH, "account_id": wallet.pk, "transaction_id": None, "expected": 300, "actual": 0}]


def test_an_expired_but_pending_hold_still_counts_as_held(busy_ledger):
    Hold.objects.update(expires_at=clock.now() - timedelta(minutes=1))  # not yet voided by a write
    assert reconciliation_run().ok


def test_money_from_the_processor_without_a_topup_is_found(busy_ledger):
    give_wallet_money(busy_ledger.guardian, 999)  # credited from clearing with no TopUp behind it
    clearing = accounts.processor_clearing()

    summary = reconciliation_run()

    expected = -(5075 + 2000 + 720) + 1000 + 700
    assert issues() == [
        {"kind": Kind.PROCESSOR_MISMATCH, "account_id": clearing.pk, "transaction_id": None, "expected": expected, "actual": expected - 999}
    ]
    assert summary.issues_found == 1


def test_a_refund_whose_money_came_back_is_not_counted(busy_ledger):
    topup = TopUp.objects.filter(guardian=busy_ledger.guardian, fee=0).get()
    row = topup_refunded(topup, 500)
    # Stripe refused the refund (or a dispute was won): the money went back into clearing and the wallet.
    came_back = ledger.transfer(
        kind="topup_refund_reversal",
        reference=f"topup_refund_reversal:{row.pk}",
        legs=[ledger.Leg(accounts.processor_clearing().pk, -500), ledger.Leg(accounts.guardian_wallet(topup.guardian).pk, 500)],
        actor="stripe",
    )
    assert not reconciliation_run().ok  # the refund row still counts until it names its reversal
    ReconciliationIssue.objects.all().delete()
    TopUpRefund.objects.filter(pk=row.pk).update(reversal_transaction=came_back)

    assert reconciliation_run().ok


def test_a_topup_marked_succeeded_but_never_credited_is_found(busy_ledger):
    TopUp.objects.create(guardian=busy_ledger.guardian, amount=1500, fee=0, payment_intent_id="pi_lost", status=TopUp.Status.SUCCEEDED)

    assert [issue["kind"] for issue in issues()] == []
    reconciliation_run()
    assert [(issue["kind"], issue["expected"] - issue["actual"]) for issue in issues()] == [(Kind.PROCESSOR_MISMATCH, -1500)]


def test_transaction_without_balanced_entries_is_found(busy_ledger, client_for):
    # No entries at all: the database trigger fires on entry inserts, so only reconciliation sees this one.
    empty = LedgerTransaction.objects.create(kind="broken", reference="broken:1", actor="test")
    # One leg: what the trigger refuses at commit, as data loaded around it (a restore, replication) could hold.
    lonely = LedgerTransaction.objects.create(kind="broken", reference="broken:2", actor="test")
    merchant = accounts.merchant_payable(MerchantFactory())
    with triggers_off():
        Entry.objects.create(transaction=lonely, account=merchant, amount=50, balance_after=50)
    Account.objects.filter(pk=merchant.pk).update(balance=50)

    summary = reconciliation_run()

    assert issues() == [
        {"kind": Kind.UNBALANCED_TRANSACTION, "account_id": None, "transaction_id": empty.pk, "expected": 0, "actual": 0},
        {"kind": Kind.UNBALANCED_TRANSACTION, "account_id": None, "transaction_id": lonely.pk, "expected": 0, "actual": 50},
    ]
    assert summary.issues_found == 2

    listed = client_for(UserFactory(is_staff=True)).get("/api/v1/reconciliation/issues").json()["results"]
    assert [(i["transaction_id"], i["account_id"], i["account_kind"]) for i in listed] == [(lonely.pk, None, None), (empty.pk, None, None)]


def test_broken_running_balance_is_found(busy_ledger):
    receiving, paying = (accounts.merchant_payable(MerchantFactory()) for _ in range(2))
    posted = LedgerTransaction.objects.create(kind="broken", reference="broken:3", actor="test")
    # Balanced, and the cached balances are right, but one entry claims a running balance it never had.
    Entry.objects.create(transaction=posted, account=receiving, amount=50, balance_after=70)
    Entry.objects.create(transaction=posted, account=paying, amount=-50, balance_after=-50)
    Account.objects.filter(pk=receiving.pk).update(balance=50)
    Account.objects.filter(pk=paying.pk).update(balance=-50)

    summary = reconciliation_run()

    assert issues() == [{"kind": Kind.BALANCE_MISMATCH, "account_id": receiving.pk, "transaction_id": None, "expected": 50, "actual": 70}]
    assert "running balance is broken" in ReconciliationIssue.objects.get().detail
    assert summary.issues_found == 1


# --- The nightly task --------------------------------------------------------


def test_nightly_task_is_registered_and_scheduled(busy_ledger):
    entry = CELERY_BEAT_SCHEDULE["reconcile-ledger-nightly"]
    assert entry["task"] == "wallet.reconciliation_tasks.reconcile_ledger"
    assert entry["task"] in celery_app.tasks
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({16}, {30})

    assert reconcile_ledger() == {
        "checked_transactions": 8,
        "checked_accounts": Account.objects.count(),
        "issues_found": 0,
        "new_issues": 0,
        "ok": True,
    }


# --- API -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.ADMIN])
def test_platform_staff_run_reconciliation_and_the_schools_finance_lists_its_issues(client_for, busy_ledger, role):
    platform = client_for(UserFactory(is_staff=True))
    client = client_for(StaffFactory(school=busy_ledger.student.school, roles=[role]).user)
    card_account = accounts.student_card_account(busy_ledger.student)

    response = platform.post("/api/v1/reconciliation/runs")
    assert response.status_code == 200
    assert response.json() == {
        "checked_transactions": 8,
        "checked_accounts": Account.objects.count(),
        "issues_found": 0,
        "new_issues": 0,
        "ok": True,
    }

    Account.objects.filter(pk=card_account.pk).update(balance=F("balance") - 1)
    assert platform.post("/api/v1/reconciliation/runs").json()["new_issues"] == 1
    Account.objects.filter(pk=card_account.pk).update(balance=F("balance") - 1)
    assert platform.post("/api/v1/reconciliation/runs").json()["new_issues"] == 1
    assert_problem(client.post("/api/v1/reconciliation/runs"), 403, "permission_denied")

    body = client.get("/api/v1/reconciliation/issues").json()
    newest, older = body["results"]
    assert (newest["expected"], newest["actual"]) == (2750, 2748)
    assert (older["expected"], older["actual"]) == (2750, 2749)
    assert newest == {
        "id": newest["id"],
        "run_at": newest["run_at"],
        "kind": "balance_mismatch",
        "account_id": card_account.pk,
        "account_kind": "student_card",
        "transaction_id": None,
        "expected": 2750,
        "actual": 2748,
        "detail": f"Account {card_account.pk}: cached balance 2748 but its entries sum to 2750.",
        "resolved_at": None,
    }
    assert newest["id"] > older["id"]

    ReconciliationIssue.objects.filter(pk=older["id"]).update(resolved_at=clock.now())
    assert [i["id"] for i in client.get("/api/v1/reconciliation/issues?state=open").json()["results"]] == [newest["id"]]
    assert [i["id"] for i in client.get("/api/v1/reconciliation/issues?state=resolved").json()["results"]] == [older["id"]]
    assert_problem(client.get("/api/v1/reconciliation/issues?state=maybe"), 400, "validation_error")


@pytest.mark.parametrize("roles", [[StaffRole.TEACHER], [StaffRole.CANTEEN]])
def test_other_staff_are_forbidden(client_for, roles):
    client = client_for(StaffFactory(roles=roles).user)
    assert_problem(client.get("/api/v1/reconciliation/issues"), 403, "permission_denied")
    assert_problem(client.post("/api/v1/reconciliation/runs"), 403, "permission_denied")
    assert ReconciliationIssue.objects.count() == 0


def test_guardians_are_forbidden(client_for):
    client = client_for(GuardianFactory().user)
    assert_problem(client.get("/api/v1/reconciliation/issues"), 403, "permission_denied")
    assert_problem(client.post("/api/v1/reconciliation/runs"), 403, "permission_denied")


def _issue(kind, *, account=None, transaction=None) -> ReconciliationIssue:
    return ReconciliationIssue.objects.create(kind=kind, account=account, transaction=transaction, expected=0, actual=1, detail="found")


def test_a_schools_finance_sees_its_own_schools_issues_and_neither_the_platforms_nor_another_schools(client_for):
    ours, theirs = GuardianLinkFactory(), GuardianLinkFactory()
    school = ours.student.school
    our_card = _issue(Kind.BALANCE_MISMATCH, account=accounts.student_card_account(ours.student))
    our_merchant = _issue(Kind.HELD_MISMATCH, account=accounts.merchant_payable(MerchantFactory(school=school)))
    their_card = _issue(Kind.BALANCE_MISMATCH, account=accounts.student_card_account(theirs.student))
    their_merchant = _issue(Kind.BALANCE_MISMATCH, account=accounts.merchant_payable(MerchantFactory(school=theirs.student.school)))
    platform = [
        _issue(Kind.PROCESSOR_MISMATCH, account=accounts.processor_clearing()),
        _issue(Kind.BALANCE_MISMATCH, account=accounts.guardian_wallet(ours.guardian)),  # a wallet may fund children at several schools
        _issue(Kind.BALANCE_MISMATCH, account=accounts.merchant_payable(MerchantFactory(school=None))),
        _issue(Kind.UNBALANCED_TRANSACTION, transaction=LedgerTransaction.objects.create(kind="broken", reference="broken:scope", actor="test")),
    ]

    def listed(user):
        response = client_for(user).get("/api/v1/reconciliation/issues")
        assert response.status_code == 200, response.content
        return {issue["id"] for issue in response.json()["results"]}

    for role in (StaffRole.FINANCE, StaffRole.ADMIN):
        assert listed(StaffFactory(school=school, roles=[role]).user) == {our_card.pk, our_merchant.pk}
    assert listed(StaffFactory(school=theirs.student.school, roles=[StaffRole.FINANCE]).user) == {their_card.pk, their_merchant.pk}
    everything = {our_card.pk, our_merchant.pk, their_card.pk, their_merchant.pk, *(issue.pk for issue in platform)}
    assert listed(UserFactory(is_staff=True)) == everything


def test_platform_staff_run_and_list_but_other_people_may_not(client_for):
    _issue(Kind.PROCESSOR_MISMATCH, account=accounts.processor_clearing())
    platform = client_for(UserFactory(is_staff=True))
    assert platform.post("/api/v1/reconciliation/runs").status_code == 200
    assert len(platform.get("/api/v1/reconciliation/issues").json()["results"]) == 1

    for user in (StaffFactory(roles=[StaffRole.FINANCE]).user, StaffFactory(roles=[StaffRole.ADMIN]).user, UserFactory()):
        assert_problem(client_for(user).post("/api/v1/reconciliation/runs"), 403, "permission_denied")
    assert_problem(client_for(UserFactory()).get("/api/v1/reconciliation/issues"), 403, "permission_denied")


def test_runs_on_demand_are_throttled(client_for):
    client = client_for(UserFactory(is_staff=True))
    for _ in range(6):
        assert client.post("/api/v1/reconciliation/runs").status_code == 200
    assert_problem(client.post("/api/v1/reconciliation/runs"), 429, "throttled")


# --- Admin ----------------------------------------------------------------------


def test_ledger_admin_is_read_only_and_renders(client, busy_ledger):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model in (Account, LedgerTransaction, ReconciliationIssue):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)

    Account.objects.filter(pk=accounts.student_card_account(busy_ledger.student).pk).update(balance=1)
    reconciliation_run()
    posted = LedgerTransaction.objects.get(kind="card_charge")
    for url in (
        "/admin/wallet/account/",
        "/admin/wallet/ledgertransaction/",
        f"/admin/wallet/ledgertransaction/{posted.pk}/change/",
        "/admin/wallet/reconciliationissue/",
    ):
        assert client.get(url).status_code == 200, url

    issue = ReconciliationIssue.objects.get()
    response = client.post(
        "/admin/wallet/reconciliationissue/", {"action": "mark_resolved", "_selected_action": [issue.pk]}
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.resolved_at is not None
