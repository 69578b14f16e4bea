"""A tiny Stripe: the few REST endpoints Tuckbox calls, on 127.0.0.1, plus signed events for the webhook.

Stripe is faked only at its HTTP boundary: the real `stripe` library talks to this
server (settings.STRIPE_API_BASE), so request encoding, idempotency headers and error
handling are all exercised. The server records every request, replays the first
response for a repeated Idempotency-Key (refusing the key with other parameters, as
Stripe does), and can be told to fail the next call to a path.
"""

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

DECLINED_METHOD = "pm_card_chargeDeclined"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    authorization: str | None
    replayed: bool = False

    @property
    def metadata(self) -> dict:
        return {key[len("metadata[") : -1]: value for key, value in self.params.items() if key.startswith("metadata[")}


@dataclass
class StripeState:
    requests: list[Recorded] = field(default_factory=list)
    by_key: dict = field(default_factory=dict)  # idempotency key -> (params, status, body)
    intents: dict = field(default_factory=dict)  # pi id -> amount
    refunded: dict = field(default_factory=dict)  # pi id -> cents refunded
    failures: list = field(default_factory=list)  # (method, path prefix, status, body)
    stalls: list = field(default_factory=list)  # (method, path prefix, seconds)


class FakeStripe:
    def __init__(self):
        self.state = StripeState()
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.state = StripeState()

    def fail_next(self, path_prefix: str, *, status: int = 500, method: str = "POST", error: dict | None = None):
        body = {"error": error or {"type": "api_error", "message": "Something went wrong on Stripe's end."}}
        with self.lock:
            self.state.failures.append((method, path_prefix, status, body))

    def stall_next(self, path_prefix: str, *, seconds: float, method: str = "POST"):
        """The next matching request is answered only after `seconds`, and then processed as usual:
        Stripe did the work, the client had stopped waiting (a timeout, the case that doubles money)."""
        with self.lock:
            self.state.stalls.append((method, path_prefix, seconds))

    def calls(self, path_prefix: str = "", method: str = "POST") -> list[Recorded]:
        return [r for r in self.state.requests if r.method == method and r.path.startswith(path_prefix)]

    # --- Handling -----------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers) -> tuple[int, dict]:
        with self.lock:
            stall = next((i for i, (m, prefix, _) in enumerate(self.state.stalls) if m == method and path.startswith(prefix)), None)
            seconds = self.state.stalls.pop(stall)[2] if stall is not None else 0
        time.sleep(seconds)
        key = headers.get("Idempotency-Key")
        record = Recorded(method, path, params, key, headers.get("Authorization"))
        with self.lock:
            self.state.requests.append(record)
            if not (headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
            for index, (fail_method, prefix, status, body) in enumerate(self.state.failures):
                if fail_method == method and path.startswith(prefix):
                    del self.state.failures[index]
                    return status, body
            if method == "POST" and key is not None and key in self.state.by_key:
                first_params, status, body = self.state.by_key[key]
                if first_params != params:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                        }
                    }
                record.replayed = True
                return status, body
            status, body = self._route(method, path, params)
            if method == "POST" and key is not None:
                self.state.by_key[key] = (params, status, body)
            return status, body

    def _route(self, method, path, params) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/payment_intents":
            return self._payment_intent(params)
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        if method == "POST" and path == "/v1/setup_intents":
            seti = self._id("seti")
            return 200, {
                "id": seti,
                "object": "setup_intent",
                "client_secret": f"{seti}_secret_{uuid.uuid4().hex[:16]}",
                "customer": params.get("customer"),
                "usage": params.get("usage"),
                "status": "requires_payment_method",
                "metadata": _metadata(params),
            }
        if method == "POST" and path == "/v1/customers":
            return 200, {"id": self._id("cus"), "object": "customer", "email": params.get("email"), "metadata": _metadata(params)}
        if method == "POST" and path == "/v1/transfers":
            return 200, {
                "id": self._id("tr"),
                "object": "transfer",
                "amount": int(params["amount"]),
                "currency": params.get("currency"),
                "destination": params.get("destination"),
                "metadata": _metadata(params),
            }
        if method == "POST" and path.startswith("/v1/payment_methods/") and path.endswith("/detach"):
            pm = path.split("/")[3]
            return 200, {"id": pm, "object": "payment_method", "type": "card", "customer": None, "card": {"brand": "visa", "last4": "4242"}}
        if method == "GET" and path.startswith("/v1/payment_methods/"):
            pm = path.rsplit("/", 1)[1]
            return 200, {"id": pm, "object": "payment_method", "type": "card", "card": {"brand": "mastercard", "last4": "4444"}}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({method}: {path})."}}

    def _payment_intent(self, params) -> tuple[int, dict]:
        pi = self._id("pi")
        amount = int(params["amount"])
        confirm = params.get("confirm") == "true" and params.get("off_session") == "true"
        intent = {
            "id": pi,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params.get("currency"),
            "client_secret": f"{pi}_secret_{uuid.uuid4().hex[:16]}",
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "status": "requires_payment_method",
            "latest_charge": None,
            "metadata": _metadata(params),
        }
        self.state.intents[pi] = amount
        if confirm and params.get("payment_method") == DECLINED_METHOD:
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "payment_intent": intent,
            }
            return 402, {"error": error}
        if confirm:
            intent.update(status="succeeded", amount_received=amount, latest_charge=self._id("ch"))
        return 200, intent

    def _refund(self, params) -> tuple[int, dict]:
        pi = params.get("payment_intent")
        amount = int(params["amount"])
        if pi not in self.state.intents:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such payment_intent: '{pi}'"}}
        if self.state.refunded.get(pi, 0) + amount > self.state.intents[pi]:
            return 400, {"error": {"type": "invalid_request_error", "code": "amount_too_large", "message": "Refund amount is greater than unrefunded amount on charge."}}
        self.state.refunded[pi] = self.state.refunded.get(pi, 0) + amount
        return 200, {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "payment_intent": pi,
            "status": "succeeded",
            "metadata": _metadata(params),
        }

    def register_intent(self, pi: str, amount: int) -> None:
        """Know a PaymentIntent made outside the server (a top-up built directly in a test)."""
        with self.lock:
            self.state.intents[pi] = amount

    def _id(self, prefix: str) -> str:
        return f"{prefix}_test{next(self.counter):06d}{uuid.uuid4().hex[:8]}"


def _metadata(params: dict) -> dict:
    return {key[len("metadata[") : -1]: value for key, value in params.items() if key.startswith("metadata[")}


def _handler_for(stripe: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            params = dict(parse_qsl(raw or query, keep_blank_values=True))
            status, body = stripe.handle(method, path, params, self.headers)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def do_GET(self):  # noqa: N802
            self._serve("GET")

        def log_message(self, *args):
            pass

    return Handler


# --- Webhook events ---------------------------------------------------------------


def stripe_signature(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Computed here from first principles (not with the library under test): t + HMAC-SHA256 of "t.payload"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event(event_type: str, data_object: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": data_object},
    }


def payment_intent(topup, *, status: str = "succeeded", amount: int | None = None, error: dict | None = None) -> dict:
    amount = topup.total_charged if amount is None else amount
    return {
        "id": topup.payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": "aud",
        "status": status,
        "latest_charge": f"ch_for_{topup.payment_intent_id}",
        "metadata": {"topup_id": str(topup.pk), "guardian_id": str(topup.guardian_id)},
        "last_payment_error": error,
    }


def charge(topup, *, amount_refunded: int) -> dict:
    return {
        "id": f"ch_for_{topup.payment_intent_id}",
        "object": "charge",
        "amount": topup.total_charged,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded == topup.total_charged,
        "paid": True,
        "status": "succeeded",
        "currency": "aud",
        "payment_intent": topup.payment_intent_id,
        "metadata": {"topup_id": str(topup.pk), "guardian_id": str(topup.guardian_id)},
    }


def dispute(topup, *, dispute_id: str, amount: int, status: str) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "aud",
        "charge": f"ch_for_{topup.payment_intent_id}",
        "payment_intent": topup.payment_intent_id,
        "reason": "fraudulent",
        "status": status,
    }
