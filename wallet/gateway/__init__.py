"""The payment gateway: the few processor calls Tuckbox makes, behind one small interface.

`StripeGateway` talks to Stripe with the `stripe` library; `FakeGateway` (`make run`,
the tests) answers like Stripe without a network and delivers its outcomes as signed
webhook events, so the rest of the code cannot tell them apart. Pick with
settings.PAYMENT_GATEWAY.

Every creating call takes an idempotency key that the caller derives from its own row
(`tuckbox-topup-<id>`, ...): a retry after a timeout finds the object made the first
time instead of charging twice. Errors are three kinds: `GatewayUnavailable` (nothing
is known to have happened; retry with the same key), `GatewayDeclined` (the card said
no) and `GatewayRejected` (the request itself was refused; retrying will not help).
"""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

CURRENCY = "aud"


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str
    amount: int
    latest_charge: str | None = None


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str
    customer: str


@dataclass(frozen=True)
class Customer:
    id: str


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    destination: str


class GatewayError(Exception):
    def __init__(self, message: str = "", *, code: str = "", decline_code: str = "", payment_intent_id: str | None = None):
        super().__init__(message or code or type(self).__name__)
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class GatewayUnavailable(GatewayError):
    """Network trouble, rate limit or a processor error: the outcome is unknown, retry with the same key."""


class GatewayDeclined(GatewayError):
    """The card was declined (or needs the cardholder, for an off-session payment)."""


class GatewayRejected(GatewayError):
    """The processor refused the request (invalid, or not allowed in the object's state)."""


class Gateway(Protocol):
    name: str

    def create_customer(self, *, email: str, name: str, guardian_id: int, idempotency_key: str) -> Customer: ...

    def create_payment_intent(
        self, *, amount: int, metadata: dict, idempotency_key: str, description: str = ""
    ) -> PaymentIntent: ...

    def create_off_session_payment_intent(
        self, *, amount: int, customer: str, payment_method: str, metadata: dict, idempotency_key: str, description: str = ""
    ) -> PaymentIntent: ...

    def create_refund(self, *, payment_intent: str, amount: int, metadata: dict, idempotency_key: str) -> Refund: ...

    def create_setup_intent(self, *, customer: str, metadata: dict, idempotency_key: str) -> SetupIntent: ...

    def retrieve_card(self, payment_method_id: str) -> CardDetails: ...

    def detach_payment_method(self, payment_method_id: str) -> None: ...

    def create_transfer(self, *, amount: int, destination: str, metadata: dict, idempotency_key: str) -> Transfer: ...


def get_gateway() -> Gateway:
    if settings.PAYMENT_GATEWAY == "fake":
        from wallet.gateway.fake import FakeGateway

        return FakeGateway()
    from wallet.gateway.stripe_gateway import StripeGateway

    return StripeGateway()


def is_fake() -> bool:
    return settings.PAYMENT_GATEWAY == "fake"
