"""Card top-ups through Stripe, refunds of unused balance, the saved card, automatic top-up, and Stripe's webhook."""

import functools
import uuid

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.permissions import IsGuardian
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.payments import (
    AutoTopUpUpdateInput,
    PaymentMethodOutput,
    PaymentMethodSetupOutput,
    StripeWebhookInput,
    StripeWebhookOutput,
    TopUpCreateInput,
    TopUpCreateOutput,
    TopUpOutput,
    TopUpQuoteInput,
    TopUpQuoteOutput,
    TopUpSimulateInput,
    WalletRefundCreateInput,
    WalletRefundOutput,
)
from guardians.selectors import guardian_for_user
from wallet import stripe_events, topups
from wallet.errors import PaymentGatewayUnavailable, WebhookPayloadInvalid, WebhookSignatureInvalid
from wallet.models import TopUp

TAG_WALLET = "Wallet"
TAG_WEBHOOKS = "Webhooks"
GATEWAY_PROBLEMS = {503: ["payment_gateway_unavailable"]}
AMOUNT_PROBLEMS = {422: ["amount_out_of_range"]}

TOPUP_EXAMPLE = {
    "id": 41,
    "amount": 2000,
    "fee": 60,
    "total": 2060,
    "currency": "AUD",
    "status": "pending",
    "automatic": False,
    "student_id": None,
    "payment_intent_id": "pi_3QxYzAbCdEfGhIjK0a1b2c3d",
    "failure_code": "",
    "refunded_amount": 0,
    "created_at": "2026-11-28T03:00:00Z",
    "succeeded_at": None,
}
SUCCEEDED_TOPUP_EXAMPLE = {**TOPUP_EXAMPLE, "status": "succeeded", "succeeded_at": "2026-11-28T03:01:12Z"}


class PaymentGatewayDown(APIException):
    """503, so the idempotency layer releases the key and the client may retry with it."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "payment_gateway_unavailable"
    default_detail = PaymentGatewayUnavailable.default_message


class WebhookRefused(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_signature"
    default_detail = WebhookSignatureInvalid.default_message


def gateway_errors_as_503(handler):
    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except PaymentGatewayUnavailable as exc:
            raise PaymentGatewayDown(exc.message) from exc

    return wrapper


def _guardian(request):
    return guardian_for_user(request.user)


class TopUpQuoteView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="topup_quote",
        tags=[TAG_WALLET],
        summary="Quote a top-up's fee",
        description="What a card top-up of `amount` cents costs before paying: the wallet receives `amount`, the card "
        "is charged `total` = `amount` + `fee`. Amounts outside the allowed range answer 422 `amount_out_of_range` "
        "with the limits in `details`.",
        parameters=[TopUpQuoteInput],
        responses={200: TopUpQuoteOutput, **problems(400, 403, AMOUNT_PROBLEMS)},
        examples=[
            OpenApiExample("Quote", value={"amount": 2000, "fee": 60, "total": 2060, "currency": "AUD"}, response_only=True)
        ],
    )
    def get(self, request):
        data = TopUpQuoteInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        quote = topups.topup_quote(amount=data.validated_data["amount"])
        return Response(TopUpQuoteOutput(quote).data)


class TopUpListView(GenericAPIView):
    permission_classes = [IsGuardian]
    serializer_class = TopUpOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no signed-in guardian
            return TopUp.objects.none()
        return topups.topups_for_guardian(_guardian(self.request))

    @extend_schema(
        operation_id="topup_list",
        tags=[TAG_WALLET],
        summary="My top-ups",
        description="Your card top-ups, newest first, automatic ones included.",
        responses={200: TopUpOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Top-ups", value=[SUCCEEDED_TOPUP_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TopUpOutput(page, many=True).data)

    @extend_schema(
        operation_id="topup_create",
        tags=[TAG_WALLET],
        summary="Start a card top-up",
        description="Creates a top-up and a Stripe PaymentIntent for `amount` + fee (see `topup_quote`). Confirm the "
        "payment in the app with Stripe.js and the returned `client_secret`. Nothing is credited now: the wallet is "
        "credited when Stripe reports the payment succeeded (the `status` becomes `succeeded`). 503 means Stripe "
        "could not be reached and nothing was charged: retry with the same Idempotency-Key.",
        request=TopUpCreateInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: TopUpCreateOutput,
            **problems(400, 403, AMOUNT_PROBLEMS, {409: ["topup_not_pending"]}, IDEMPOTENCY_REQUIRED_PROBLEMS, GATEWAY_PROBLEMS),
        },
        examples=[
            OpenApiExample("Top up $20", value={"amount": 2000}, request_only=True),
            OpenApiExample(
                "Started",
                value={
                    **TOPUP_EXAMPLE,
                    "client_secret": "pi_3QxYzAbCdEfGhIjK0a1b2c3d_secret_Zy9XwVuTsRqPoNmL",
                    "publishable_key": "pk_test_51Hx...",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent(required=True)
    @gateway_errors_as_503
    def post(self, request):
        data = TopUpCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        started = topups.topup_create(
            guardian=_guardian(request), amount=data.validated_data["amount"], request_key=request.headers[IDEMPOTENCY_HEADER]
        )
        context = {"client_secret": started.client_secret, "publishable_key": started.publishable_key}
        return Response(TopUpCreateOutput(started.topup, context=context).data, status=status.HTTP_201_CREATED)


class TopUpDetailView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="topup_retrieve",
        tags=[TAG_WALLET],
        summary="Get a top-up",
        description="One of your top-ups; poll it after confirming the payment. Another guardian's top-up is a 404.",
        responses={200: TopUpOutput, **problems(403, 404)},
        examples=[OpenApiExample("Top-up", value=SUCCEEDED_TOPUP_EXAMPLE, response_only=True)],
    )
    def get(self, request, topup_id: int):
        topup = topups.topup_for_guardian(guardian=_guardian(request), topup_id=topup_id)
        return Response(TopUpOutput(topup).data)


class TopUpSimulateView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="topup_simulate",
        tags=[TAG_WALLET],
        summary="Complete a top-up (fake gateway only)",
        description="Development and demos only: exists when the server runs the fake payment gateway, and is a 404 "
        "`not_found` otherwise. Builds the event Stripe would send (`payment_intent.succeeded` or "
        "`payment_intent.payment_failed`), signs it with the webhook secret and delivers it to the webhook's own "
        "verification and processing, then returns the top-up.",
        request=TopUpSimulateInput,
        responses={200: TopUpOutput, **problems(400, 403, 404, {409: ["topup_not_pending"]})},
        examples=[
            OpenApiExample("Pay", value={"outcome": "succeeded"}, request_only=True),
            OpenApiExample("Paid", value=SUCCEEDED_TOPUP_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request, topup_id: int):
        data = TopUpSimulateInput(data=request.data)
        data.is_valid(raise_exception=True)
        topup = topups.topup_simulate(guardian=_guardian(request), topup_id=topup_id, outcome=data.validated_data["outcome"])
        return Response(TopUpOutput(topup).data)


class WalletRefundView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="wallet_refund_create",
        tags=[TAG_WALLET],
        summary="Refund unused balance to my cards",
        description="Sends `amount` cents of your wallet's available balance back to the cards it came from, without "
        "any fee: newest top-up first, split across several top-ups when needed, never more than what is left of "
        "each. Only top-ups of the last 180 days (configurable) can take money back; otherwise 422 "
        "`refund_not_available` with the refundable total in `details`. The wallet is debited at once; each refund's "
        "`status` is `succeeded` when Stripe accepted it, `pending` while Stripe is unreachable (retried "
        "automatically), `failed` if Stripe refused (the money is back in your wallet).",
        request=WalletRefundCreateInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: WalletRefundOutput,
            **problems(
                400,
                {402: ["insufficient_funds"]},
                403,
                {422: ["amount_out_of_range", "refund_not_available"]},
                IDEMPOTENCY_REQUIRED_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample("Refund $25", value={"amount": 2500}, request_only=True),
            OpenApiExample(
                "Refunded across two top-ups",
                value={
                    "amount": 2500,
                    "currency": "AUD",
                    "wallet_available": 500,
                    "refunds": [
                        {
                            "id": 7,
                            "topup_id": 42,
                            "payment_intent_id": "pi_3QyAbC",
                            "amount": 2000,
                            "status": "succeeded",
                            "stripe_refund_id": "re_3QyAbC",
                            "failure_code": "",
                            "created_at": "2026-11-28T04:00:00Z",
                        },
                        {
                            "id": 8,
                            "topup_id": 41,
                            "payment_intent_id": "pi_3QxYzA",
                            "amount": 500,
                            "status": "succeeded",
                            "stripe_refund_id": "re_3QxYzA",
                            "failure_code": "",
                            "created_at": "2026-11-28T04:00:00Z",
                        },
                    ],
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent(required=True)
    def post(self, request):
        data = WalletRefundCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = topups.wallet_refund_create(
            guardian=_guardian(request), amount=data.validated_data["amount"], request_key=request.headers[IDEMPOTENCY_HEADER]
        )
        return Response(WalletRefundOutput(refund).data, status=status.HTTP_201_CREATED)


PAYMENT_METHOD_EXAMPLE = {
    "brand": "visa",
    "last4": "4242",
    "saved_at": "2026-11-28T03:05:00Z",
    "auto_topup": {"enabled": True, "threshold": 500, "amount": 2000},
}


class PaymentMethodView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="payment_method_retrieve",
        tags=[TAG_WALLET],
        summary="My saved card",
        description="The card saved for automatic top-ups (brand and last four digits only) and the automatic top-up "
        "settings. 404 `payment_method_not_found` until a card is saved.",
        responses={200: PaymentMethodOutput, **problems(403, {404: ["payment_method_not_found"]})},
        examples=[OpenApiExample("Saved card", value=PAYMENT_METHOD_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        return Response(PaymentMethodOutput(topups.payment_method_for(_guardian(request))).data)


class PaymentMethodSetupView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="payment_method_setup",
        tags=[TAG_WALLET],
        summary="Start saving a card",
        description="Creates a Stripe SetupIntent for off-session use. Confirm it in the app with Stripe.js "
        "(`confirmCardSetup`) and the returned `client_secret`; the card is saved when Stripe reports "
        "`setup_intent.succeeded`, replacing any earlier card. No card number ever reaches Tuckbox.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={201: PaymentMethodSetupOutput, **problems(403, IDEMPOTENCY_PROBLEMS, GATEWAY_PROBLEMS)},
        examples=[
            OpenApiExample(
                "Setup started",
                value={
                    "setup_intent_id": "seti_1QxYzA",
                    "client_secret": "seti_1QxYzA_secret_AbCdEf",
                    "customer_id": "cus_QxYzAbCdEf",
                    "publishable_key": "pk_test_51Hx...",
                },
                response_only=True,
                status_codes=["201"],
            )
        ],
    )
    @idempotent(required=False)
    @gateway_errors_as_503
    def post(self, request):
        request_key = request.headers.get(IDEMPOTENCY_HEADER) or uuid.uuid4().hex
        started = topups.payment_method_setup(guardian=_guardian(request), request_key=request_key)
        return Response(PaymentMethodSetupOutput(started).data, status=status.HTTP_201_CREATED)


class AutoTopUpView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="auto_topup_update",
        tags=[TAG_WALLET],
        summary="Set automatic top-up",
        description="When one of your children's card balance falls below `threshold` cents after a purchase, your "
        "saved card is charged `amount` + fee (see `topup_quote`) and, once Stripe confirms it, `amount` is added to "
        "that child's card. Once per fall below the threshold, not once per purchase: the card must be back at or "
        "above the threshold before it can trigger again. You are notified of each automatic top-up and of any "
        "failure. If several guardians of a child enable it, the one linked longest tops up. Needs a saved card "
        "(409 `payment_method_required`); enabling needs both amounts (422 `auto_topup_incomplete`).",
        request=AutoTopUpUpdateInput,
        responses={
            200: PaymentMethodOutput,
            **problems(400, 403, {409: ["payment_method_required"], 422: ["amount_out_of_range", "auto_topup_incomplete"]}),
        },
        examples=[
            OpenApiExample("Turn on", value={"enabled": True, "threshold": 500, "amount": 2000}, request_only=True),
            OpenApiExample("Settings", value=PAYMENT_METHOD_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request):
        data = AutoTopUpUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        method = topups.auto_topup_update(guardian=_guardian(request), **data.validated_data)
        return Response(PaymentMethodOutput(method).data)


class StripeWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="stripe_webhook_receive",
        tags=[TAG_WEBHOOKS],
        summary="Stripe events",
        description="Stripe's webhook endpoint (configure it in the Stripe dashboard). The `Stripe-Signature` header "
        "is verified on the raw body (HMAC-SHA256 with the endpoint's secret, 300 s tolerance); anything unsigned, "
        "altered or stale is refused with 400 `invalid_signature` and nothing is stored. Each event is stored once "
        "by its id and answered at once; it is processed after the answer, exactly once however often Stripe "
        "delivers it and in whatever order. Handled: `payment_intent.succeeded`, `payment_intent.payment_failed`, "
        "`charge.refunded`, `charge.dispute.*`, `refund.updated`, `setup_intent.succeeded`; others are stored and "
        "ignored.",
        request=StripeWebhookInput,
        parameters=[
            OpenApiParameter(
                name="Stripe-Signature",
                location=OpenApiParameter.HEADER,
                required=True,
                type=str,
                description="`t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`, as Stripe sends it.",
            )
        ],
        responses={200: StripeWebhookOutput, **problems({400: ["invalid_signature", "invalid_event"]})},
        examples=[
            OpenApiExample(
                "payment_intent.succeeded",
                value={
                    "id": "evt_3QxYzAbCdEfGhIjK",
                    "object": "event",
                    "type": "payment_intent.succeeded",
                    "created": 1795834872,
                    "data": {
                        "object": {
                            "id": "pi_3QxYzAbCdEfGhIjK0a1b2c3d",
                            "object": "payment_intent",
                            "amount": 2060,
                            "amount_received": 2060,
                            "currency": "aud",
                            "status": "succeeded",
                            "latest_charge": "ch_3QxYzAbCdEfGhIjK",
                            "metadata": {"topup_id": "41", "guardian_id": "2"},
                        }
                    },
                },
                request_only=True,
            ),
            OpenApiExample(
                "Received", value={"received": True, "event_id": "evt_3QxYzAbCdEfGhIjK", "duplicate": False}, response_only=True
            ),
        ],
        auth=[],
    )
    def post(self, request):
        try:
            event, created = stripe_events.stripe_webhook_receive(
                payload=request.body, signature=request.headers.get("Stripe-Signature")
            )
        except (WebhookSignatureInvalid, WebhookPayloadInvalid) as exc:
            raise WebhookRefused(exc.message, code=exc.code) from exc
        return Response(StripeWebhookOutput({"received": True, "event_id": event.pk, "duplicate": not created}).data)
