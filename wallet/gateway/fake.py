"""The local gateway: answers like Stripe, needs no network, and reports outcomes as signed webhooks.

Ids are derived from the idempotency key (`pi_fake_<hash>`), so a retried call gets the
same object back, as at Stripe. Outcomes (a payment succeeding or failing) are not
decided here: they arrive as Stripe-shaped events, signed with STRIPE_WEBHOOK_SECRET and
handed to the same receive function the webhook view uses, signature check included.

Stripe's test payment methods work for off-session payments: `pm_card_chargeDeclined`
is declined, any other method succeeds.
"""

import hashlib
import json
import time
import uuid

import stripe
from django.conf import settings

from wallet.gateway import (
    CURRENCY,
    CardDetails,
    Customer,
    GatewayDeclined,
    PaymentIntent,
    Refund,
    SetupIntent,
    Transfer,
)

DECLINED_TEST_METHOD = "pm_card_chargeDeclined"


def fake_id(prefix: str, key: str) -> str:
    return f"{prefix}_fake_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class FakeGateway:
    name = "fake"

    def create_customer(self, *, email, name, guardian_id, idempotency_key):
        return Customer(id=fake_id("cus", idempotency_key))

    def create_payment_intent(self, *, amount, metadata, idempotency_key, description=""):
        intent_id = fake_id("pi", idempotency_key)
        return PaymentIntent(
            id=intent_id, client_secret=f"{intent_id}_secret_{fake_id('s', intent_id)[7:]}", status="requires_payment_method", amount=amount
        )

    def create_off_session_payment_intent(self, *, amount, customer, payment_method, metadata, idempotency_key, description=""):
        intent_id = fake_id("pi", idempotency_key)
        if payment_method == DECLINED_TEST_METHOD:
            raise GatewayDeclined("Your card was declined.", code="card_declined", decline_code="generic_decline", payment_intent_id=intent_id)
        intent = PaymentIntent(
            id=intent_id, client_secret=f"{intent_id}_secret_fake", status="succeeded", amount=amount, latest_charge=fake_id("ch", intent_id)
        )
        # Stripe confirms an off-session payment at once and tells the webhook; so do we.
        deliver_event(
            "payment_intent.succeeded",
            payment_intent_object(intent_id=intent_id, amount=amount, metadata=metadata, outcome="succeeded", customer=customer),
        )
        return intent

    def create_refund(self, *, payment_intent, amount, metadata, idempotency_key):
        return Refund(id=fake_id("re", idempotency_key), status="succeeded", amount=amount)

    def create_setup_intent(self, *, customer, metadata, idempotency_key):
        intent_id = fake_id("seti", idempotency_key)
        return SetupIntent(id=intent_id, client_secret=f"{intent_id}_secret_fake", customer=customer)

    def retrieve_card(self, payment_method_id):
        return CardDetails(payment_method_id=payment_method_id, brand="visa", last4="4242")

    def detach_payment_method(self, payment_method_id):
        return None

    def create_transfer(self, *, amount, destination, metadata, idempotency_key):
        return Transfer(id=fake_id("tr", idempotency_key), amount=amount, destination=destination)


# --- Events -------------------------------------------------------------------


def payment_intent_object(*, intent_id: str, amount: int, metadata: dict, outcome: str, customer: str | None = None) -> dict:
    """A PaymentIntent as Stripe puts it in `payment_intent.succeeded` / `payment_intent.payment_failed`."""
    succeeded = outcome == "succeeded"
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if succeeded else 0,
        "currency": CURRENCY,
        "customer": customer,
        "status": "succeeded" if succeeded else "requires_payment_method",
        "latest_charge": fake_id("ch", intent_id),
        "metadata": {key: str(value) for key, value in metadata.items() if value is not None},
        "last_payment_error": None
        if succeeded
        else {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."},
    }


def event_payload(event_type: str, data_object: dict) -> str:
    return json.dumps(
        {
            "id": f"evt_fake_{uuid.uuid4().hex}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": data_object},
        }
    )


def sign(payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)


def deliver_event(event_type: str, data_object: dict):
    """Sign an event and hand it to the webhook's receive function, as Stripe's delivery would."""
    from wallet.stripe_events import stripe_webhook_receive  # the receiver imports the gateway

    payload = event_payload(event_type, data_object)
    event, _ = stripe_webhook_receive(payload=payload.encode(), signature=sign(payload))
    return event
