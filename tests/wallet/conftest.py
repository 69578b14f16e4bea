"""Shared set-ups for wallet tests."""

from dataclasses import dataclass

import pytest
from django.db.models import Sum

from guardians.models import GuardianLink, Student
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory
from wallet.models import Account, Entry, LedgerTransaction, StudentCard


@dataclass
class CardWorld:
    link: GuardianLink
    student: Student
    card: StudentCard
    card_number: str
    guardian_client: object
    terminal_client: object


@pytest.fixture
def card_world(client_for, terminal_client):
    """A guardian linked (with money permission) to a student with a live card, and a canteen terminal."""
    link = GuardianLinkFactory()
    card = StudentCardFactory(student=link.student, identifier="CARD-0000-0042")
    return CardWorld(
        link=link,
        student=link.student,
        card=card,
        card_number="CARD-0000-0042",
        guardian_client=client_for(link.guardian.user),
        terminal_client=terminal_client(MerchantFactory(school=link.student.school)),
    )


def assert_ledger_consistent():
    """Money is neither created nor lost: every transaction balances, every cached balance matches its entries."""
    unbalanced = (
        LedgerTransaction.objects.annotate(total=Sum("entries__amount")).exclude(total=0).values_list("reference", flat=True)
    )
    assert list(unbalanced) == []
    for account in Account.objects.all():
        entries_total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == entries_total, account.name
        if not account.allow_negative:
            assert account.balance - account.held >= 0, account.name
    assert (Account.objects.aggregate(total=Sum("balance"))["total"] or 0) == 0
