"""The gateway against Stripe's API, through the `stripe` library (StripeClient, API v1)."""

import functools

import stripe
from django.conf import settings

from wallet.gateway import (
    CURRENCY,
    CardDetails,
    Customer,
    GatewayDeclined,
    GatewayRejected,
    GatewayUnavailable,
    PaymentIntent,
    Refund,
    SetupIntent,
    Transfer,
)


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str, timeout: int, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    """One client per configuration (tests point STRIPE_API_BASE at a local fake)."""
    return _client(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS, settings.STRIPE_MAX_NETWORK_RETRIES
    )


def _translated(call):
    """Turn the library's exceptions into the gateway's three kinds."""

    @functools.wraps(call)
    def wrapper(*args, **kwargs):
        try:
            return call(*args, **kwargs)
        except stripe.CardError as exc:
            error = (exc.json_body or {}).get("error") or {}
            intent = error.get("payment_intent")
            raise GatewayDeclined(
                exc.user_message or str(exc),
                code=exc.code or "card_declined",
                decline_code=error.get("decline_code") or "",
                payment_intent_id=(intent.get("id") if isinstance(intent, dict) else intent) or None,
            ) from exc
        except (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.PermissionError, stripe.AuthenticationError) as exc:
            raise GatewayRejected(exc.user_message or str(exc), code=exc.code or type(exc).__name__) from exc
        except stripe.StripeError as exc:  # connection, rate limit, 5xx
            raise GatewayUnavailable(str(exc), code=exc.code or type(exc).__name__) from exc

    return wrapper


class StripeGateway:
    name = "stripe"

    @_translated
    def create_customer(self, *, email, name, guardian_id, idempotency_key):
        customer = client().v1.customers.create(
            {"email": email, "name": name, "metadata": {"guardian_id": str(guardian_id)}},
            {"idempotency_key": idempotency_key},
        )
        return Customer(id=customer.id)

    @_translated
    def create_payment_intent(self, *, amount, metadata, idempotency_key, description=""):
        intent = client().v1.payment_intents.create(
            {
                "amount": amount,
                "currency": CURRENCY,
                "payment_method_types": ["card"],
                "metadata": _strings(metadata),
                "description": description,
            },
            {"idempotency_key": idempotency_key},
        )
        return _intent(intent)

    @_translated
    def create_off_session_payment_intent(self, *, amount, customer, payment_method, metadata, idempotency_key, description=""):
        intent = client().v1.payment_intents.create(
            {
                "amount": amount,
                "currency": CURRENCY,
                "customer": customer,
                "payment_method": payment_method,
                "payment_method_types": ["card"],
                "off_session": True,
                "confirm": True,
                "metadata": _strings(metadata),
                "description": description,
            },
            {"idempotency_key": idempotency_key},
        )
        return _intent(intent)

    @_translated
    def create_refund(self, *, payment_intent, amount, metadata, idempotency_key):
        refund = client().v1.refunds.create(
            {"payment_intent": payment_intent, "amount": amount, "reason": "requested_by_customer", "metadata": _strings(metadata)},
            {"idempotency_key": idempotency_key},
        )
        return Refund(id=refund.id, status=refund.status, amount=refund.amount)

    @_translated
    def create_setup_intent(self, *, customer, metadata, idempotency_key):
        intent = client().v1.setup_intents.create(
            {"customer": customer, "usage": "off_session", "payment_method_types": ["card"], "metadata": _strings(metadata)},
            {"idempotency_key": idempotency_key},
        )
        return SetupIntent(id=intent.id, client_secret=intent.client_secret, customer=customer)

    @_translated
    def retrieve_card(self, payment_method_id):
        method = client().v1.payment_methods.retrieve(payment_method_id).to_dict()
        card = method.get("card") or {}
        return CardDetails(payment_method_id=method["id"], brand=card.get("brand") or "", last4=card.get("last4") or "")

    @_translated
    def detach_payment_method(self, payment_method_id):
        # No idempotency key: detaching is idempotent at Stripe's side by nature (see wallet/saved_cards.py).
        client().v1.payment_methods.detach(payment_method_id)

    @_translated
    def create_transfer(self, *, amount, destination, metadata, idempotency_key):
        transfer = client().v1.transfers.create(
            {"amount": amount, "currency": CURRENCY, "destination": destination, "metadata": _strings(metadata)},
            {"idempotency_key": idempotency_key},
        )
        return Transfer(id=transfer.id, amount=transfer.amount, destination=destination)


def _intent(intent) -> PaymentIntent:
    intent = intent.to_dict()
    charge = intent.get("latest_charge")
    return PaymentIntent(
        id=intent["id"],
        client_secret=intent["client_secret"],
        status=intent["status"],
        amount=intent["amount"],
        latest_charge=charge if isinstance(charge, str) or charge is None else charge.get("id"),
    )


def _strings(metadata: dict) -> dict:
    """Stripe metadata values are strings."""
    return {key: str(value) for key, value in metadata.items() if value is not None}
