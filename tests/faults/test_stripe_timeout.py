"""Stripe answering too slowly: the guardian gets a quick, documented 503 and nothing is charged or
credited; the retry with the same Idempotency-Key finds the payment intent Stripe made meanwhile,
so the money is asked for once. (Stripe answering 5xx: tests/wallet/test_topups.py.)"""

import time

import pytest

from tests.factories import GuardianFactory
from tests.faults.services import wait_for
from tests.helpers import assert_problem
from wallet.models import LedgerTransaction, TopUp

pytestmark = [pytest.mark.faults, pytest.mark.django_db, pytest.mark.usefixtures("payments")]

TOPUPS = "/api/v1/wallet/topups"


@pytest.fixture
def payments(settings):
    from tests.wallet.conftest import WEBHOOK_SECRET

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def test_a_stripe_timeout_is_a_quick_503_and_the_retry_charges_once(client_for, fake_stripe, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # the library's own retries would hide the timeout
    guardian = client_for(GuardianFactory().user)
    stall = 5.0
    fake_stripe.stall_next("/v1/payment_intents", seconds=stall)

    started = time.monotonic()
    first = guardian.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="topup-slow")
    waited = time.monotonic() - started
    assert_problem(first, 503, "payment_gateway_unavailable")
    # The 1 s timeout cut the wait short of Stripe's 5 s (with room for a loaded test machine).
    assert waited < stall - 1.5, f"the request waited {waited:.2f} s for Stripe"
    assert LedgerTransaction.objects.count() == 0

    # Stripe finishes the stalled request: it made the payment intent (waited for, not slept on: the
    # request can reach the fake a while after it was sent, on a loaded machine).
    wait_for(lambda: fake_stripe.calls("/v1/payment_intents"), timeout=stall + 10, what="the stalled payment intent")
    retry = guardian.post(TOPUPS, {"amount": 2000}, format="json", HTTP_IDEMPOTENCY_KEY="topup-slow")

    assert retry.status_code == 201, retry.content
    assert TopUp.objects.count() == 1
    intents = fake_stripe.calls("/v1/payment_intents")
    assert len(intents) == 2 and len({call.idempotency_key for call in intents}) == 1
    assert intents[-1].replayed  # Stripe answered the retry with the intent it had made, not a second one
    assert LedgerTransaction.objects.count() == 0  # credited only by the webhook, never by the request
