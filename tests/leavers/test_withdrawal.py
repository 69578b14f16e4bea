"""After leaving, a guardian takes the returned balance out of the wallet, back to the card that paid it,
through the payment gateway (Stripe, faked at its HTTP boundary). No fee at any step."""

import pytest
import time_machine

from tests.canteen.conftest import MONDAY_MORNING
from tests.factories import GuardianLinkFactory, MerchantFactory, StaffFactory, StudentCardFactory
from tests.leavers.conftest import MONDAY, fund
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import TopUpRefund
from wallet.reconciliation import reconciliation_run

pytestmark = pytest.mark.django_db


def test_the_returned_balance_goes_back_to_the_guardians_card(client_for, terminal_client, payments, paid_topup, fake_stripe):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        link = GuardianLinkFactory()
        StudentCardFactory(student=link.student, identifier="LEAVER-0002")
        topup = paid_topup(link.guardian, 4000)
        fund(link, 1500)
        terminal = terminal_client(MerchantFactory(school=link.student.school))
        charged = terminal.post("/api/v1/terminal/charges", {"card_identifier": "LEAVER-0002", "amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="c1")
        assert charged.status_code == 201, charged.content
        admin = StaffFactory(school=link.student.school, roles=["admin"])
        marked = client_for(admin.user).post(f"/api/v1/students/{link.student.pk}/leaver", {"leaving_on": MONDAY.isoformat()}, format="json")
        assert marked.status_code == 201 and marked.json()["status"] == "left"
        wallet = accounts.guardian_wallet(link.guardian)
        assert wallet.balance == 4000 - 1500 + 1000  # the card's 1000 came back, not a cent taken

        response = client_for(link.guardian.user).post("/api/v1/wallet/refunds", {"amount": 3500}, format="json", HTTP_IDEMPOTENCY_KEY="out")

    assert response.status_code == 201, response.content
    assert response.json()["wallet_available"] == 0
    [call] = fake_stripe.calls("/v1/refunds")
    assert (call.params["payment_intent"], call.params["amount"]) == (topup.payment_intent_id, "3500")
    [refund] = TopUpRefund.objects.all()
    assert (refund.amount, refund.status, refund.fee_amount) == (3500, TopUpRefund.Status.SUCCEEDED, 0)
    assert accounts.guardian_wallet(link.guardian).balance == 0
    assert_ledger_consistent()
    assert reconciliation_run().ok  # the processor check included: clearing matches top-ups and refunds
