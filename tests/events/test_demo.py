"""The `make run` demo includes a published, signed and paid excursion, and seeding again duplicates nothing."""

import pytest
from django.core.management import call_command

from events.chain import consent_chain_verify
from events.models import Announcement, ConsentRecord, Event, Signup, SignupStatus
from guardians.models import School
from wallet.models import LedgerTransaction

pytestmark = pytest.mark.django_db


def _counts():
    return [model.objects.count() for model in (Event, Signup, ConsentRecord, Announcement, LedgerTransaction)]


def test_the_demo_has_a_signed_and_paid_excursion_and_reseeding_adds_nothing(fake_gateway):
    call_command("demo_seed", "--quiet")
    first = _counts()
    call_command("demo_seed", "--quiet")

    assert _counts() == first
    museum = Event.objects.get(title="Year 4 Australian Museum excursion")
    signup = Signup.objects.get(event=museum)
    assert signup.status == SignupStatus.CONFIRMED and signup.amount_paid == 2500
    assert consent_chain_verify(school=School.objects.get(code="harbourside")).valid
