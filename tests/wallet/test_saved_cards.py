"""A guardian removes their saved card: detached at Stripe (faked at its HTTP boundary), forgotten here."""

import uuid

import pytest
import time_machine

from core.models import Notification
from tests.factories import GuardianFactory, MerchantFactory, StaffFactory
from tests.helpers import assert_problem
from tests.wallet import fake_stripe as events
from wallet.models import PaymentMethod, TopUp
from wallet.topups import auto_topup_submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("payments")]

CARD = "/api/v1/wallet/payment-method"
AUTO_TOPUP = "/api/v1/wallet/auto-topup"


def saved_card(guardian, *, auto_topup=False, card="pm_card_visa") -> PaymentMethod:
    return PaymentMethod.objects.create(
        guardian=guardian,
        stripe_customer_id=f"cus_{uuid.uuid4().hex[:10]}",
        stripe_payment_method_id=card,
        brand="visa",
        last4="4242",
        auto_topup_enabled=auto_topup,
        auto_topup_threshold=500,
        auto_topup_amount=2000,
    )


@pytest.fixture
def guardian():
    return GuardianFactory()


@pytest.fixture
def client(guardian, client_for):
    return client_for(guardian.user)


def test_removing_detaches_the_card_at_stripe_and_it_is_no_longer_offered(client, guardian, fake_stripe):
    saved_card(guardian)

    response = client.delete(CARD)

    assert response.status_code == 200, response.content
    assert response.json() == {"brand": "visa", "last4": "4242", "auto_topup_disabled": False}
    [detach] = fake_stripe.calls("/v1/payment_methods/")
    assert detach.path == "/v1/payment_methods/pm_card_visa/detach"
    method = PaymentMethod.objects.get(guardian=guardian)
    assert (method.stripe_payment_method_id, method.brand, method.last4) == ("", "", "")
    assert_problem(client.get(CARD), 404, "payment_method_not_found")
    assert_problem(client.delete(CARD), 404, "payment_method_not_found")
    assert len(fake_stripe.calls("/v1/payment_methods/")) == 1
    assert_problem(client.patch(AUTO_TOPUP, {"enabled": True}, format="json"), 409, "payment_method_required")


def test_removing_the_card_switches_automatic_top_up_off_with_a_notice(client, guardian, fake_stripe, django_capture_on_commit_callbacks):
    saved_card(guardian, auto_topup=True)
    queued = TopUp.objects.create(guardian=guardian, amount=2000, fee=65, automatic=True, request_key=f"auto_topup:test:{uuid.uuid4()}")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(CARD)

    assert response.json()["auto_topup_disabled"] is True
    method = PaymentMethod.objects.get(guardian=guardian)
    assert (method.auto_topup_enabled, method.auto_topup_threshold, method.auto_topup_amount) == (False, 500, 2000)
    [notice] = Notification.objects.filter(user=guardian.user, kind="auto_topup_disabled")
    assert "visa ending 4242" in notice.body
    # The automatic top-up that was queued is not charged to the removed card.
    assert auto_topup_submit(topup_id=queued.pk).status == TopUp.Status.FAILED
    assert fake_stripe.calls("/v1/payment_intents") == []


def test_a_late_event_for_the_removed_card_does_not_bring_it_back(client, guardian, fake_stripe, send_event):
    method = saved_card(guardian)
    late = events.event(
        "setup_intent.succeeded",
        {"id": "seti_old", "object": "setup_intent", "customer": method.stripe_customer_id, "payment_method": "pm_card_visa", "metadata": {"guardian_id": str(guardian.pk)}},
    )
    late["created"] -= 60  # made a minute before the removal, delivered after it

    client.delete(CARD)
    send_event(late)

    assert_problem(client.get(CARD), 404, "payment_method_not_found")


def test_a_card_saved_after_the_removal_is_kept(client, guardian, fake_stripe, send_event):
    method = saved_card(guardian)
    with time_machine.travel("2026-11-30T01:00:00Z"):
        client.delete(CARD)
    newer = events.event(
        "setup_intent.succeeded",
        {"id": "seti_new", "object": "setup_intent", "customer": method.stripe_customer_id, "payment_method": "pm_new", "metadata": {"guardian_id": str(guardian.pk)}},
    )

    send_event(newer)

    assert client.get(CARD).status_code == 200
    assert PaymentMethod.objects.get(guardian=guardian).stripe_payment_method_id == "pm_new"


def test_stripe_down_changes_nothing_and_the_guardian_may_retry(client, guardian, fake_stripe):
    saved_card(guardian)
    fake_stripe.fail_next("/v1/payment_methods/", status=500)

    assert_problem(client.delete(CARD), 503, "payment_gateway_unavailable")
    assert PaymentMethod.objects.get(guardian=guardian).stripe_payment_method_id == "pm_card_visa"
    assert client.delete(CARD).status_code == 200


def test_a_card_stripe_no_longer_has_attached_is_still_removed_here(client, guardian, fake_stripe):
    saved_card(guardian)
    fake_stripe.fail_next(
        "/v1/payment_methods/",
        status=400,
        error={"type": "invalid_request_error", "message": "The payment method you provided is not attached to a customer so detachment is impossible."},
    )

    assert client.delete(CARD).status_code == 200
    assert PaymentMethod.objects.get(guardian=guardian).stripe_payment_method_id == ""


def test_only_the_owning_guardian_can_remove_a_card(guardian, fake_stripe, client_for, terminal_client):
    saved_card(guardian)
    other = GuardianFactory()

    assert_problem(client_for(other.user).delete(CARD), 404, "payment_method_not_found")
    assert client_for(StaffFactory(roles=["admin", "finance"]).user).delete(CARD).status_code == 403
    assert terminal_client(MerchantFactory()).delete(CARD).status_code == 403
    assert PaymentMethod.objects.get(guardian=guardian).stripe_payment_method_id == "pm_card_visa"
    assert fake_stripe.calls("/v1/payment_methods/") == []
