"""Events for staff: create, change, publish, cancel, remind, roster, attendance, consent-chain check."""


from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.pagination import CursorPage
from api.permissions import IsGuardianOrStaff, StaffWithRole
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.events import (
    AttendanceInput,
    AttendanceOutput,
    ConsentChainVerifyOutput,
    EventCancelInput,
    EventCreateInput,
    EventOutput,
    EventPublishOutput,
    EventReminderOutput,
    EventUpdateInput,
)
from api.views.events_common import (
    EVENT_EXAMPLE,
    EVENT_INPUT_EXAMPLE,
    TAG_EVENTS,
    TAG_STAFF,
    event_payload,
    staff_event,
)
from events import selectors, services
from events.chain import consent_chain_verify
from events.models import Event
from guardians.models import StaffRole
from guardians.selectors import staff_for_user

ORGANISERS = (StaffRole.ADMIN, StaffRole.TEACHER)
EVENT_INVALID_CODES = ["event_invalid", "consent_form_invalid", "signup_deadline_passed"]

class EventListCreateView(GenericAPIView):
    pagination_class = CursorPage
    queryset = Event.objects.none()  # for the schema generator
    filter_backends = []

    def get_permissions(self):
        return [StaffWithRole(*ORGANISERS)()] if self.request.method == "POST" else [IsGuardianOrStaff()]

    @extend_schema(
        operation_id="event_list",
        tags=[TAG_EVENTS],
        summary="Events I can see",
        description="Guardians: published (and cancelled) events their linked children may go to or are signed up "
        "for, each with `children` showing where each child stands. Staff: every event of their school, drafts "
        "included. Newest first, cursor-paginated.",
        responses={200: EventOutput(many=True), **problems(403)},
        examples=[OpenApiExample("An event", value=EVENT_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.events_visible_to(request.user).order_by("-id"))
        return self.get_paginated_response(EventOutput([event_payload(event, request.user) for event in page], many=True).data)

    @extend_schema(
        operation_id="event_create",
        tags=[TAG_EVENTS],
        summary="Create an event (draft)",
        description="Admin and teacher staff create a draft at their school, with its consent form and typed "
        "questions (`text`, `yes_no`, `choice`, `medical`). The form's first version is named by the SHA-256 of "
        "its content. Nothing is sent until the event is published.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=EventCreateInput,
        responses={201: EventOutput, **problems(400, 403, {400: ["nonexistent_local_time"], 422: EVENT_INVALID_CODES}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Museum excursion", value=EVENT_INPUT_EXAMPLE, request_only=True),
            OpenApiExample("Draft", value={**EVENT_EXAMPLE, "status": "draft", "published_at": None, "children": []}, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = EventCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        form = fields.pop("consent_form")
        event = services.event_create(staff=staff_for_user(request.user), form=form, **fields)
        return Response(EventOutput(event_payload(event, request.user)).data, status=status.HTTP_201_CREATED)


class EventDetailView(APIView):
    def get_permissions(self):
        return [StaffWithRole(*ORGANISERS)()] if self.request.method == "PATCH" else [IsGuardianOrStaff()]

    @extend_schema(
        operation_id="event_retrieve",
        tags=[TAG_EVENTS],
        summary="One event, with its current consent form",
        description="Show `consent_form` to the guardian exactly as given and send its `hash` back when signing.",
        responses={200: EventOutput, **problems(403, 404)},
        examples=[OpenApiExample("Event", value=EVENT_EXAMPLE, response_only=True)],
    )
    def get(self, request, event_id: int):
        event = get_object_or_404(selectors.events_visible_to(request.user), pk=event_id)
        return Response(EventOutput(event_payload(event, request.user)).data)

    @extend_schema(
        operation_id="event_update",
        tags=[TAG_EVENTS],
        summary="Change an event",
        description="Send only what changes. A changed consent form becomes a new version: guardians who opened "
        "the old one get `form_version_stale` when signing and must read the new one. Consents already given stay "
        "valid. A published event's capacity cannot drop below the places taken; extra places go to the waitlist.",
        request=EventUpdateInput,
        responses={200: EventOutput, **problems(400, 403, 404, {400: ["nonexistent_local_time"], 409: ["capacity_below_taken", "event_state_invalid"], 422: EVENT_INVALID_CODES})},
        examples=[
            OpenApiExample("More places", value={"capacity": 80}, request_only=True),
            OpenApiExample("Event", value=EVENT_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, event_id: int):
        event = staff_event(request, event_id)
        data = EventUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        form = fields.pop("consent_form", None)
        event = services.event_update(event_id=event.pk, staff=staff_for_user(request.user), form=form, **fields)
        return Response(EventOutput(event_payload(event, request.user)).data)


class EventPublishView(APIView):
    permission_classes = [StaffWithRole(*ORGANISERS)]

    @extend_schema(
        operation_id="event_publish",
        tags=[TAG_EVENTS],
        summary="Publish an event and tell the families",
        description="Opens sign-ups. Every guardian of an eligible student gets an in-app notice and (if they "
        "want event emails) an email with a personal signed link to the details and payment, valid for a limited "
        "time and readable without signing in.",
        request=None,
        responses={200: EventPublishOutput, **problems(403, 404, {409: ["event_state_invalid"], 422: ["signup_deadline_passed"]})},
        examples=[OpenApiExample("Published", value={**EVENT_EXAMPLE, "children": [], "guardians_notified": 57}, response_only=True)],
    )
    def post(self, request, event_id: int):
        event = staff_event(request, event_id)
        event, notified = services.event_publish(event_id=event.pk, staff=staff_for_user(request.user))
        event = event_payload(event, request.user)
        event.guardians_notified = notified
        return Response(EventPublishOutput(event).data)


class EventCancelView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN)]

    @extend_schema(
        operation_id="event_cancel",
        tags=[TAG_EVENTS],
        summary="Cancel an event and refund everyone",
        description="School admins only. Every place and waitlist spot ends; a background job refunds each fee in "
        "full to the wallet that paid and tells the families. Cancelling again changes nothing.",
        request=EventCancelInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={200: EventOutput, **problems(400, 403, 404, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[
            OpenApiExample("Rain", value={"reason": "Severe weather warning"}, request_only=True),
            OpenApiExample("Cancelled", value={**EVENT_EXAMPLE, "status": "cancelled", "cancelled_at": "2026-12-09T01:00:00Z", "cancel_reason": "Severe weather warning", "children": []}, response_only=True),
        ],
    )
    @idempotent(required=True)
    def post(self, request, event_id: int):
        event = staff_event(request, event_id)
        data = EventCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_cancel(event_id=event.pk, staff=staff_for_user(request.user), reason=data.validated_data["reason"])
        return Response(EventOutput(event_payload(event, request.user)).data)


class EventRemindView(APIView):
    permission_classes = [StaffWithRole(*ORGANISERS)]

    @extend_schema(
        operation_id="event_remind",
        tags=[TAG_STAFF],
        summary="Remind families who have not answered",
        description="Guardians (with consent permission) of eligible children who have neither signed nor declined, "
        "and whoever holds an unpaid place. At most once a school day per guardian, however often it is pressed; "
        "an automatic reminder also goes out `reminder_hours_before_deadline` before the deadline.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=None,
        responses={200: EventReminderOutput, **problems(403, 404, {409: ["event_not_open"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[OpenApiExample("Reminded", value={"guardians_reminded": 12}, response_only=True)],
    )
    @idempotent(required=False)
    def post(self, request, event_id: int):
        event = staff_event(request, event_id)
        return Response(EventReminderOutput({"guardians_reminded": services.event_remind(event=event, automatic=False)}).data)


class EventAttendanceView(APIView):
    permission_classes = [StaffWithRole(*ORGANISERS)]

    @extend_schema(
        operation_id="event_attendance_mark",
        tags=[TAG_STAFF],
        summary="Mark attendance on the day",
        description="Confirmed students only, on the event's days in the school's time zone. Marking again overwrites.",
        request=AttendanceInput,
        responses={200: AttendanceOutput(many=True), **problems(400, 403, 404, {404: ["signup_not_found"], 409: ["signup_state_invalid", "event_not_open"], 422: ["attendance_not_open"]})},
        examples=[
            OpenApiExample("Roll call", value={"marks": [{"signup_id": 31, "attendance": "present"}]}, request_only=True),
            OpenApiExample("Marked", value=[{"signup_id": 31, "student_id": 7, "attendance": "present", "attendance_marked_at": "2026-12-10T22:40:00Z"}], response_only=True),
        ],
    )
    def post(self, request, event_id: int):
        event = staff_event(request, event_id)
        data = AttendanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        marks = [(mark["signup_id"], mark["attendance"]) for mark in data.validated_data["marks"]]
        marked = services.attendance_mark(event_id=event.pk, staff=staff_for_user(request.user), marks=marks)
        return Response(AttendanceOutput(marked, many=True).data)


class ConsentChainVerifyView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN)]

    @extend_schema(
        operation_id="consent_chain_verify",
        tags=[TAG_STAFF],
        summary="Verify my school's consent records",
        description="Recomputes the hash chain of every consent record at the admin's school (each record's hash "
        "covers its content and the previous record's hash) and reports every record that no longer matches. "
        "A nightly job does the same and alerts the school's admins.",
        responses={200: ConsentChainVerifyOutput, **problems(403)},
        examples=[
            OpenApiExample("Intact", value={"school_id": 1, "valid": True, "records": 412, "head_hash": "5be0c1...e9", "problems": []}, response_only=True),
            OpenApiExample(
                "Tampered",
                value={"school_id": 1, "valid": False, "records": 412, "head_hash": "5be0c1...e9", "problems": [{"sequence": 17, "record_id": 230, "code": "record_changed", "detail": "the record's content does not match its hash"}]},
                response_only=True,
            ),
        ],
    )
    def get(self, request):
        report = consent_chain_verify(school=staff_for_user(request.user).school)
        return Response(
            ConsentChainVerifyOutput(
                {"school_id": report.school_id, "valid": report.valid, "records": report.records, "head_hash": report.head_hash, "problems": report.problems}
            ).data
        )
