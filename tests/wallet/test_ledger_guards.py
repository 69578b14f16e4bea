"""The ledger's invariants hold in PostgreSQL itself, not only in our code."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from tests.factories import GuardianFactory, give_wallet_money
from wallet import accounts, ledger
from wallet.errors import InsufficientFunds
from wallet.models import Account, Entry, LedgerTransaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unbalanced_transaction_is_refused_at_commit():
    wallet = accounts.guardian_wallet(GuardianFactory())
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(kind="forged", reference="forged-1", actor="test")
            Entry.objects.create(transaction=posted, account=wallet, amount=1000, balance_after=1000)
    assert not LedgerTransaction.objects.filter(reference="forged-1").exists()


def test_entries_and_transactions_cannot_be_edited_or_deleted():
    give_wallet_money(GuardianFactory(), 500)
    entry = Entry.objects.first()
    for attempt in (
        lambda: Entry.objects.filter(pk=entry.pk).update(amount=5),
        lambda: Entry.objects.filter(pk=entry.pk).delete(),
        lambda: LedgerTransaction.objects.filter(pk=entry.transaction_id).update(memo="changed"),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                attempt()


def test_a_user_account_cannot_go_below_zero_even_bypassing_the_code():
    wallet = accounts.guardian_wallet(GuardianFactory())
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Account.objects.filter(pk=wallet.pk).update(balance=-1)


def test_the_service_refuses_an_overdraft_before_the_database_has_to():
    guardian = GuardianFactory()
    wallet = give_wallet_money(guardian, 100)
    with pytest.raises(InsufficientFunds):
        ledger.transfer(
            kind="test",
            reference="overdraft-1",
            legs=[ledger.Leg(wallet.pk, -101), ledger.Leg(accounts.platform_fees().pk, 101)],
            actor="test",
        )
    wallet.refresh_from_db()
    assert wallet.balance == 100


def test_the_same_reference_posts_once():
    wallet = accounts.guardian_wallet(GuardianFactory())
    legs = [ledger.Leg(accounts.processor_clearing().pk, -100), ledger.Leg(wallet.pk, 100)]
    first = ledger.transfer(kind="test", reference="once-1", legs=legs, actor="test")
    second = ledger.transfer(kind="test", reference="once-1", legs=legs, actor="test")
    wallet.refresh_from_db()
    assert first.pk == second.pk
    assert wallet.balance == 100
