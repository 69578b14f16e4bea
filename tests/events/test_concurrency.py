"""Fifty families race for ten places on PostgreSQL: exactly ten are confirmed, the rest wait in line,
the consent chain does not fork, and the ledger balances."""

import uuid
from collections import Counter

import pytest
from rest_framework.test import APIClient

from api.auth import tokens_for_new_session
from events.chain import consent_chain_verify
from events.models import ConsentRecord, Signup, SignupStatus
from events.services.payments import event_fees_account
from tests.concurrency import run_concurrently
from tests.events.conftest import SIGNATURE, family, make_event
from tests.factories import give_wallet_money
from tests.wallet.conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db(transaction=True)

FAMILIES = 50
PLACES = 10


def test_fifty_concurrent_signups_for_ten_places(world):
    event = make_event(world.admin, capacity=PLACES, cost=1500)
    links = [family(world.school) for _ in range(FAMILIES)]
    for link in links:
        give_wallet_money(link.guardian, 1500)
    tokens = [tokens_for_new_session(link.guardian.user)["access"] for link in links]
    form_hash = event.consent_form.content_hash

    def sign_and_pay(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[index]}")
        signed = client.post(
            f"/api/v1/events/{event.pk}/signups",
            {
                "student_id": links[index].student_id,
                "form_hash": form_hash,
                "answers": {"photo_ok": True},
                "signature": SIGNATURE,
                "typed_name": f"Parent {index}",
                "consent_statement_accepted": True,
            },
            format="json",
        )
        assert signed.status_code == 201, signed.content
        status = signed.json()["status"]
        if status == "awaiting_payment":
            paid = client.post(f"/api/v1/signups/{signed.json()['id']}/pay", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
            assert paid.status_code == 201, paid.content
            status = paid.json()["signup"]["status"]
        return status

    outcomes = Counter(run_concurrently(sign_and_pay, FAMILIES))

    assert outcomes == Counter({"confirmed": PLACES, "waitlisted": FAMILIES - PLACES})
    assert Signup.objects.filter(event=event, status=SignupStatus.CONFIRMED).count() == PLACES
    assert event_fees_account(event).balance == PLACES * 1500
    records = ConsentRecord.objects.filter(school=world.school).order_by("sequence")
    assert list(records.values_list("sequence", flat=True)) == list(range(1, FAMILIES + 1))
    report = consent_chain_verify(school=world.school)
    assert report.valid and report.records == FAMILIES
    waitlist = Signup.objects.filter(event=event, status=SignupStatus.WAITLISTED).order_by("waitlisted_at", "pk")
    assert waitlist.count() == FAMILIES - PLACES
    assert_ledger_consistent()
