"""The personal links in event emails: open the event and pay, without signing in."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.schema import IDEMPOTENCY_HEADER_REQUIRED, IDEMPOTENCY_REQUIRED_PROBLEMS, problems
from api.serializers.events import EventLinkOutput, SignupCardPaymentOutput, SignupPaymentOutput
from api.views.events_common import TAG_LINKS
from api.views.events_signups import (
    CARD_CODES,
    CARD_DESCRIPTION,
    CARD_EXAMPLE,
    PAY_CODES,
    PAY_DESCRIPTION,
    PAYMENT_EXAMPLE,
    payment_response,
)
from events import links, selectors, services
from events.errors import EventLinkInvalid
from events.models import Event
from guardians.models import User
from guardians.selectors import guardian_for_user


def _link_guardian(token: str):
    """The event and guardian a link names; a guardian who is no longer linked to any child there gets nothing."""
    event_id, user_id = links.event_link_read(token)
    user = User.objects.filter(pk=user_id, is_active=True).select_related("guardian").first()
    guardian = guardian_for_user(user)
    event = Event.objects.select_related("school").filter(pk=event_id).first()
    if guardian is None or event is None:
        raise EventLinkInvalid()
    children = selectors.guardian_children_for_event(event, guardian)
    if not children:
        raise EventLinkInvalid()
    return event, guardian, children


LINK_EXAMPLE = {
    "event": {
        "id": 5,
        "school_name": "Harbourside Public School",
        "title": "Year 4 museum excursion",
        "description": "A day at the Australian Museum.",
        "kind": "excursion",
        "location": "Australian Museum, Sydney",
        "starts_at": "2026-12-10T22:30:00Z",
        "ends_at": "2026-12-11T05:00:00Z",
        "signup_deadline": "2026-12-04T06:00:00Z",
        "time_zone": "Australia/Sydney",
        "cost": 2500,
        "status": "published",
    },
    "guardian_first_name": "Olivia",
    "children": [{"student_id": 7, "first_name": "Mia", "eligible": True, "signup": {"id": 31, "status": "awaiting_payment", "amount_due": 2500, "amount_paid": 0, "payment_due_at": "2026-12-04T06:00:00Z"}}],
}
LINK_CODES = {403: ["event_link_invalid", "event_link_expired"]}


class EventLinkView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="event_link_retrieve",
        tags=[TAG_LINKS],
        summary="Open an event from an email link (no sign-in)",
        description="The personal, signed link in an event email: the event's details and where the guardian's "
        "children stand. Links expire (EVENTS_LINK_MAX_AGE_DAYS, 30 by default); a changed or expired link is 403.",
        responses={200: EventLinkOutput, **problems(LINK_CODES)},
        examples=[OpenApiExample("Details", value=LINK_EXAMPLE, response_only=True)],
    )
    def get(self, request, token: str):
        event, guardian, children = _link_guardian(token)
        return Response(EventLinkOutput({"event": event, "guardian_first_name": guardian.user.first_name, "children": children}).data)


class EventLinkPayView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="event_link_pay",
        tags=[TAG_LINKS],
        summary="Pay an event fee from an email link (no sign-in)",
        description=PAY_DESCRIPTION + " The link only pays fees of this guardian's children for this event, from this "
        "guardian's wallet; the ledger reference is per sign-up, so a fee is never paid twice.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={201: SignupPaymentOutput, **problems(LINK_CODES, PAY_CODES, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[OpenApiExample("Paid", value=PAYMENT_EXAMPLE, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, token: str, signup_id: int):
        event, guardian, children = _link_guardian(token)
        if signup_id not in {child["signup"].pk for child in children if child["signup"] is not None}:
            raise Http404
        signup = services.signup_pay_wallet(signup_id=signup_id, payer=guardian, actor=f"user:{guardian.user_id}:email-link")
        return payment_response(signup, guardian)


class EventLinkCardPaymentView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="event_link_card_payment",
        tags=[TAG_LINKS],
        summary="Pay an event fee by card from an email link (no sign-in)",
        description=CARD_DESCRIPTION,
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={201: SignupCardPaymentOutput, **problems(LINK_CODES, CARD_CODES, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[OpenApiExample("PaymentIntent", value=CARD_EXAMPLE, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, token: str, signup_id: int):
        event, guardian, children = _link_guardian(token)
        if signup_id not in {child["signup"].pk for child in children if child["signup"] is not None}:
            raise Http404
        started = services.signup_card_payment_start(signup_id=signup_id, payer=guardian, request_key=request.headers["Idempotency-Key"])
        return Response(SignupCardPaymentOutput(started).data, status=status.HTTP_201_CREATED)
