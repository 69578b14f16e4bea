"""Outbound webhooks: school admins and program administrators subscribe integrators to our events."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import IsPerson
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.webhooks import (
    WebhookDeliveryOutput,
    WebhookEventTypeOutput,
    WebhookPingOutput,
    WebhookSecretRotateInput,
    WebhookSubscriptionCreateInput,
    WebhookSubscriptionOutput,
    WebhookSubscriptionSecretOutput,
    WebhookSubscriptionUpdateInput,
)
from core.models_webhooks import WebhookDelivery, WebhookSubscription
from core.webhooks import selectors as webhook_selectors
from core.webhooks.event_types import EVENT_TYPES
from guardians import selectors
from guardians import webhook_subscriptions as subscriptions
from guardians.models import StaffRole
from vouchers.selectors import programs_administered_by

TAG = "Webhooks"
SUBSCRIPTION_CODES = {422: ["webhook_url_invalid", "webhook_url_not_allowed", "webhook_event_type_out_of_scope"]}

SUBSCRIPTION_EXAMPLE = {
    "id": 5,
    "url": "https://sis.harbourside.example/tuckbox/webhooks",
    "description": "School information system",
    "event_types": ["canteen.order_placed", "card.charged"],
    "scope": "school",
    "school_id": 1,
    "program_id": None,
    "is_active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "previous_secret_expires_at": None,
    "created_at": "2026-11-28T03:00:00Z",
    "updated_at": "2026-11-28T03:00:00Z",
}
SECRET_EXAMPLE = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD7rfIEHBJkMo="
DELIVERY_EXAMPLE = {
    "id": 311,
    "event_id": "6f1c2b1e-8a44-4c55-9d1e-6b0f6f4d2a10",
    "event_type": "card.charged",
    "event_data": EVENT_TYPES["card.charged"].example,
    "status": "succeeded",
    "attempts": 2,
    "next_attempt_at": None,
    "last_attempt_at": "2026-11-28T00:46:01Z",
    "response_status": 200,
    "response_body_excerpt": "ok",
    "last_error": "",
    "delivered_at": "2026-11-28T00:46:01Z",
    "created_at": "2026-11-28T00:45:00Z",
    "attempt_log": [
        {"number": 1, "started_at": "2026-11-28T00:45:00Z", "duration_ms": 5003, "response_status": None, "response_body_excerpt": "", "error": "timeout"},
        {"number": 2, "started_at": "2026-11-28T00:46:01Z", "duration_ms": 84, "response_status": 200, "response_body_excerpt": "ok", "error": ""},
    ],
}


class ManagesWebhooks(BasePermission):
    """School admins (for their school) and program administrators (for their programs)."""

    message = "Only school admins and program administrators can manage webhooks."

    def has_permission(self, request, view):
        if not IsPerson().has_permission(request, view):
            return False
        staff = selectors.staff_for_user(request.user)
        return (staff is not None and staff.has_role(StaffRole.ADMIN)) or hasattr(request.user, "program_admin")


def _admin_school_id(user) -> int | None:
    staff = selectors.staff_for_user(user)
    return staff.school_id if staff is not None and staff.has_role(StaffRole.ADMIN) else None


def _subscriptions(request):
    program_ids = list(programs_administered_by(request.user).values_list("pk", flat=True))
    return webhook_selectors.webhook_subscriptions_visible_to(school_id=_admin_school_id(request.user), program_ids=program_ids)


def _subscription(request, subscription_id: int) -> WebhookSubscription:
    """The caller's subscription, or 404: another school's or program's might as well not exist."""
    return get_object_or_404(_subscriptions(request), pk=subscription_id)


class WebhookEventTypeListView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="webhook_event_type_list",
        tags=[TAG],
        summary="Event types you can subscribe to",
        description="Every outbound event type, who may subscribe to it (`school`: a school's admins; `program`: a "
        "voucher program's administrators) and an example of its `data`. Names never change within /api/v1 and "
        "`data` only gains fields. Public: no credentials needed.",
        responses={200: WebhookEventTypeOutput(many=True), **problems({406: ["not_acceptable"]})},
        examples=[
            OpenApiExample(
                "Event types",
                value={"name": "card.charged", **{k: v for k, v in vars(EVENT_TYPES["card.charged"]).items() if k != "name"}},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(WebhookEventTypeOutput(list(EVENT_TYPES.values()), many=True).data)


class WebhookSubscriptionListView(GenericAPIView):
    permission_classes = [ManagesWebhooks]
    queryset = WebhookSubscription.objects.none()  # for the schema generator; requests use _subscriptions

    @extend_schema(
        operation_id="webhook_subscription_list",
        tags=[TAG],
        summary="My webhook subscriptions",
        description="School admins see their school's subscriptions; program administrators those of the programs "
        "they administer. Newest first. Secrets are never shown again after creation or rotation.",
        responses={200: WebhookSubscriptionOutput(many=True)},
        examples=[OpenApiExample("Subscriptions", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(_subscriptions(request))
        return self.get_paginated_response(WebhookSubscriptionOutput(page, many=True).data)

    @extend_schema(
        operation_id="webhook_subscription_create",
        tags=[TAG],
        summary="Subscribe an endpoint to events",
        description="A school admin's subscription receives that school's events; a program administrator names the "
        "`program_id` whose events it receives (404 if they do not administer it). Event types must be of that "
        "scope (see `webhook_event_type_list`). The URL must be https and resolve to public addresses. The answer "
        "carries the signing `secret`, shown only this once. Each delivery is a POST signed the Standard Webhooks way "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature`: verify with the `standardwebhooks` library, see the "
        "API guide, docs/api.md), retried with backoff for about three days until a 2xx; a 410 answer "
        "disables the subscription.",
        request=WebhookSubscriptionCreateInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={
            201: WebhookSubscriptionSecretOutput,
            **problems(400, 403, 404, {409: ["webhook_subscription_limit"]}, SUBSCRIPTION_CODES, IDEMPOTENCY_PROBLEMS),
        },
        examples=[
            OpenApiExample(
                "Subscribe",
                value={"url": SUBSCRIPTION_EXAMPLE["url"], "event_types": ["canteen.order_placed", "card.charged"], "description": "School information system"},
                request_only=True,
            ),
            OpenApiExample("Subscribed", value={**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE}, response_only=True, status_codes=["201"]),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = WebhookSubscriptionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        program_id = fields.pop("program_id", None)
        if program_id is not None:
            if not programs_administered_by(request.user).filter(pk=program_id).exists():
                raise Http404
            tenant = {"program_id": program_id}
        else:
            school_id = _admin_school_id(request.user)
            if school_id is None:
                raise ValidationError({"program_id": ["Program administrators name the program to subscribe to."]}, code="required")
            tenant = {"school": selectors.staff_for_user(request.user).school}
        subscription = subscriptions.webhook_subscription_create(created_by=request.user, **tenant, **fields)
        return Response(WebhookSubscriptionSecretOutput(subscription).data, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailView(APIView):
    permission_classes = [ManagesWebhooks]

    @extend_schema(
        operation_id="webhook_subscription_retrieve",
        tags=[TAG],
        summary="Get a webhook subscription",
        description="One of your subscriptions (without its secret). Another school's or program's is a 404.",
        responses={200: WebhookSubscriptionOutput, **problems(404)},
        examples=[OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    )
    def get(self, request, subscription_id: int):
        return Response(WebhookSubscriptionOutput(_subscription(request, subscription_id)).data)

    @extend_schema(
        operation_id="webhook_subscription_update",
        tags=[TAG],
        summary="Change a webhook subscription",
        description="Send only what changes. `is_active: false` pauses it (pending deliveries are cancelled); "
        "`is_active: true` resumes it, also after a 410 disabled it. Events that happened while it was inactive are "
        "not sent.",
        request=WebhookSubscriptionUpdateInput,
        responses={200: WebhookSubscriptionOutput, **problems(400, 404, SUBSCRIPTION_CODES)},
        examples=[
            OpenApiExample("Resume", value={"is_active": True}, request_only=True),
            OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, subscription_id: int):
        subscription = _subscription(request, subscription_id)
        data = WebhookSubscriptionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.webhook_subscription_update(subscription=subscription, **data.validated_data)
        return Response(WebhookSubscriptionOutput(subscription).data)

    @extend_schema(
        operation_id="webhook_subscription_delete",
        tags=[TAG],
        summary="Delete a webhook subscription",
        description="Stops deliveries at once and deletes the delivery log with it; pause it instead "
        "(`is_active: false`) to keep the log.",
        responses={204: None, **problems(404)},
        examples=[OpenApiExample("No body", value=None, response_only=True, status_codes=["204"])],
    )
    def delete(self, request, subscription_id: int):
        subscriptions.webhook_subscription_delete(subscription=_subscription(request, subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateView(APIView):
    permission_classes = [ManagesWebhooks]

    @extend_schema(
        operation_id="webhook_subscription_rotate_secret",
        tags=[TAG],
        summary="Rotate a subscription's signing secret",
        description="Returns the new secret, shown only this once. For `grace_period_hours` (default 24, at most 168) "
        "deliveries carry two signatures, one under each secret, so the receiver may switch whenever it likes "
        "within that time; 0 retires the old secret at once (after a leak). Rotating again during a grace period "
        "retires the oldest secret.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=WebhookSecretRotateInput,
        responses={200: WebhookSubscriptionSecretOutput, **problems(400, 404, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("A day of overlap", value={"grace_period_hours": 24}, request_only=True),
            OpenApiExample(
                "Rotated",
                value={**SUBSCRIPTION_EXAMPLE, "previous_secret_expires_at": "2026-11-29T03:00:00Z", "secret": SECRET_EXAMPLE},
                response_only=True,
            ),
        ],
    )
    @idempotent(required=False)
    def post(self, request, subscription_id: int):
        subscription = _subscription(request, subscription_id)
        data = WebhookSecretRotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.webhook_subscription_rotate_secret(
            subscription=subscription, grace_hours=data.validated_data.get("grace_period_hours")
        )
        return Response(WebhookSubscriptionSecretOutput(subscription).data)


class WebhookDeliveryListView(GenericAPIView):
    permission_classes = [ManagesWebhooks]
    queryset = WebhookDelivery.objects.none()  # for the schema generator

    @extend_schema(
        operation_id="webhook_delivery_list",
        tags=[TAG],
        summary="A subscription's deliveries",
        description="Newest first: each event sent to the subscription, its status (`pending` until it succeeds, "
        "runs out of retries or is cancelled), when the next attempt is due, and the log of its attempts with the "
        "status and the start of the body your endpoint answered.",
        responses={200: WebhookDeliveryOutput(many=True), **problems(404)},
        examples=[OpenApiExample("Deliveries", value=DELIVERY_EXAMPLE, response_only=True)],
    )
    def get(self, request, subscription_id: int):
        subscription = _subscription(request, subscription_id)
        page = self.paginate_queryset(webhook_selectors.webhook_deliveries_of(subscription))
        return self.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class WebhookPingView(APIView):
    permission_classes = [ManagesWebhooks]

    @extend_schema(
        operation_id="webhook_subscription_ping",
        tags=[TAG],
        summary="Send a test delivery",
        description="Sends a `webhook.ping` event to this subscription alone, signed and retried like any other. "
        "The answer shows the delivery; its status says how your endpoint answered if the first attempt has already "
        "been made, and `webhook_delivery_list` shows it later. A paused or disabled subscription answers 409 "
        "`webhook_subscription_disabled`.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=None,
        responses={202: WebhookPingOutput, **problems(404, {409: ["webhook_subscription_disabled"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample(
                "Ping sent",
                value={
                    "event_id": "0c9d7a1e-2b1f-4f0e-9a55-3e8d4c1b7f20",
                    "delivery": {
                        **DELIVERY_EXAMPLE,
                        "event_id": "0c9d7a1e-2b1f-4f0e-9a55-3e8d4c1b7f20",
                        "event_type": "webhook.ping",
                        "event_data": {"message": "Hello from Tuckbox", "subscription_id": 5},
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": "2026-11-28T03:00:00Z",
                        "last_attempt_at": None,
                        "response_status": None,
                        "response_body_excerpt": "",
                        "delivered_at": None,
                        "attempt_log": [],
                    },
                },
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request, subscription_id: int):
        subscription = _subscription(request, subscription_id)
        event = subscriptions.webhook_subscription_ping(subscription=subscription)
        delivery = webhook_selectors.webhook_deliveries_of(subscription).get(event=event)
        return Response(WebhookPingOutput({"event_id": event.pk, "delivery": delivery}).data, status=status.HTTP_202_ACCEPTED)
