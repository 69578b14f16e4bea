"""The notification feed and email choices, school announcements, and absence notes."""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.pagination import CursorPage
from api.permissions import IsGuardian, IsGuardianOrStaff, IsPerson, IsSchoolStaff, StaffWithRole
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.events import (
    AbsenceOutput,
    AbsenceQueryInput,
    AbsenceReportInput,
    AnnouncementInput,
    AnnouncementOutput,
    NotificationOutput,
    NotificationPreferenceOutput,
    NotificationPreferencesInput,
    NotificationReadInput,
    NotificationReadOutput,
    NotificationUnreadOutput,
)
from api.views.events_common import TAG_ABSENCES, TAG_NOTICES
from core import notifications
from core.models import Notification
from events import services
from events.models import Announcement, Event
from guardians import absences
from guardians.models import AbsenceNote, StaffRole
from guardians.selectors import active_link, guardian_for_user, staff_for_user

NOTIFICATION_EXAMPLE = {
    "id": 301,
    "kind": "event_published",
    "title": "New excursion: Year 4 museum excursion",
    "body": "Mia can go to Year 4 museum excursion.",
    "data": {"event_id": 5, "student_ids": [7]},
    "created_at": "2026-11-28T02:00:00Z",
    "read_at": None,
}
ANNOUNCEMENT_EXAMPLE = {
    "id": 4,
    "audience": "year_level",
    "year_level": 4,
    "roll_class": "",
    "event_id": None,
    "title": "Museum excursion: bring a hat",
    "body": "Please pack a hat and water bottle for Thursday.",
    "posted_at": "2026-12-08T23:00:00Z",
    "posted_by_name": "Tess Teacher",
    "recipient_count": 52,
}
ABSENCE_EXAMPLE = {
    "id": 9,
    "student_id": 7,
    "student_name": "Mia Nguyen",
    "roll_class": "4B",
    "first_day": "2026-12-01",
    "last_day": "2026-12-02",
    "reason": "illness",
    "details": "Gastro; back Thursday.",
    "reported_by_name": "Olivia Nguyen",
    "created_at": "2026-11-30T20:15:00Z",
    "acknowledged_at": None,
}

# --- Notifications ---------------------------------------------------------------


class NotificationListView(GenericAPIView):
    permission_classes = [IsPerson]
    pagination_class = CursorPage
    queryset = Notification.objects.none()
    filter_backends = []

    @extend_schema(
        operation_id="notification_list",
        tags=[TAG_NOTICES],
        summary="My notifications (the in-app feed)",
        description="Newest first, cursor-paginated. Every notice appears here; email is sent per your choices.",
        responses={200: NotificationOutput(many=True), **problems(403)},
        examples=[OpenApiExample("A notice", value=NOTIFICATION_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(notifications.notification_feed(user=request.user))
        return self.get_paginated_response(NotificationOutput(page, many=True).data)


class NotificationUnreadView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="notification_unread_count",
        tags=[TAG_NOTICES],
        summary="How many notifications I have not read",
        description="For the badge on the bell: notices in your feed with no `read_at`.",
        responses={200: NotificationUnreadOutput, **problems(403)},
        examples=[OpenApiExample("Unread", value={"unread": 3}, response_only=True)],
    )
    def get(self, request):
        return Response(NotificationUnreadOutput({"unread": notifications.notification_unread_count(user=request.user)}).data)


class NotificationReadView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="notification_mark_read",
        tags=[TAG_NOTICES],
        summary="Mark notifications read",
        description="The given ids (yours only; others are ignored), or everything when `ids` is omitted. Repeat-safe.",
        request=NotificationReadInput,
        responses={200: NotificationReadOutput, **problems(400, 403)},
        examples=[
            OpenApiExample("Two read", value={"ids": [301, 298]}, request_only=True),
            OpenApiExample("Marked", value={"marked": 2, "unread": 1}, response_only=True),
        ],
    )
    def post(self, request):
        data = NotificationReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications.notification_mark_read(user=request.user, notification_ids=data.validated_data.get("ids"))
        return Response(NotificationReadOutput({"marked": marked, "unread": notifications.notification_unread_count(user=request.user)}).data)


class NotificationPreferencesView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="notification_preferences_list",
        tags=[TAG_NOTICES],
        summary="Which notifications I get by email",
        description="Every kind, with your choice (or its default). The in-app feed always shows everything; "
        "`notify_by_email: false` on your profile turns all email off.",
        responses={200: NotificationPreferenceOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Choices", value=[{"kind": "announcement", "label": "Announcements from the school", "by_email": False}], response_only=True)],
    )
    def get(self, request):
        return Response(NotificationPreferenceOutput(notifications.notification_preferences(user=request.user), many=True).data)

    @extend_schema(
        operation_id="notification_preferences_update",
        tags=[TAG_NOTICES],
        summary="Choose which notifications I get by email",
        description="Only the kinds sent change. Unknown kinds are refused (`unknown_kind`).",
        request=NotificationPreferencesInput,
        responses={200: NotificationPreferenceOutput(many=True), **problems(400, 403)},
        examples=[
            OpenApiExample("No announcement emails", value={"preferences": [{"kind": "announcement", "by_email": False}]}, request_only=True),
            OpenApiExample("Choices", value=[{"kind": "announcement", "label": "Announcements from the school", "by_email": False}], response_only=True),
        ],
    )
    def patch(self, request):
        data = NotificationPreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        choices = {choice["kind"]: choice["by_email"] for choice in data.validated_data["preferences"]}
        return Response(NotificationPreferenceOutput(notifications.notification_preferences_update(user=request.user, choices=choices), many=True).data)


# --- Announcements ---------------------------------------------------------------


class AnnouncementView(GenericAPIView):
    pagination_class = CursorPage
    queryset = Announcement.objects.none()
    filter_backends = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [StaffWithRole(StaffRole.ADMIN, StaffRole.TEACHER)()]
        return [IsSchoolStaff()]

    @extend_schema(
        operation_id="announcement_list",
        tags=[TAG_NOTICES],
        summary="My school's announcements",
        description="Staff: what has been posted at their school, newest first. Guardians read announcements in their notification feed.",
        responses={200: AnnouncementOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Announcement", value=ANNOUNCEMENT_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        staff = staff_for_user(request.user)
        page = self.paginate_queryset(Announcement.objects.filter(school_id=staff.school_id).select_related("posted_by").order_by("-id"))
        return self.get_paginated_response(AnnouncementOutput(page, many=True).data)

    @extend_schema(
        operation_id="announcement_post",
        tags=[TAG_NOTICES],
        summary="Post an announcement",
        description="To the whole school, a year level, a class, or an event's families (places and waitlist). "
        "Each guardian gets it in the app, and by email unless they turned announcement emails off.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=AnnouncementInput,
        responses={201: AnnouncementOutput, **problems(400, 403, {422: ["audience_invalid"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Year 4", value={"audience": "year_level", "year_level": 4, "title": ANNOUNCEMENT_EXAMPLE["title"], "body": ANNOUNCEMENT_EXAMPLE["body"]}, request_only=True),
            OpenApiExample("Posted", value=ANNOUNCEMENT_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = AnnouncementInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        staff = staff_for_user(request.user)
        event_id = values.pop("event_id", None)
        event = Event.objects.filter(pk=event_id, school_id=staff.school_id).first() if event_id else None
        announcement = services.announcement_post(staff=staff, event=event, **values)
        return Response(AnnouncementOutput(announcement).data, status=status.HTTP_201_CREATED)


# --- Absence notes ---------------------------------------------------------------


class AbsenceReportView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="absence_report",
        tags=[TAG_ABSENCES],
        summary="Report a child's absence",
        description="Any guardian linked to the child. Days are the school's calendar days, up to 30 days back "
        "and a year ahead, at most 62 days in one note. An absence reported before the canteen cut-off cancels "
        "that day's canteen order.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=AbsenceReportInput,
        responses={201: AbsenceOutput, **problems(400, 404, {422: ["absence_dates_invalid"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Sick", value={"first_day": "2026-12-01", "last_day": "2026-12-02", "reason": "illness", "details": "Gastro; back Thursday."}, request_only=True),
            OpenApiExample("Reported", value=ABSENCE_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, student_id: int):
        data = AbsenceReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = active_link(guardian=guardian_for_user(request.user), student_id=student_id)
        if link is None:
            raise Http404
        values = data.validated_data
        note = absences.absence_report(
            link=link, first_day=values["first_day"], last_day=values.get("last_day", values["first_day"]), reason=values["reason"], details=values["details"]
        )
        return Response(AbsenceOutput(note).data, status=status.HTTP_201_CREATED)


class AbsenceListView(GenericAPIView):
    permission_classes = [IsGuardianOrStaff]
    pagination_class = CursorPage
    queryset = AbsenceNote.objects.none()
    filter_backends = []

    @extend_schema(
        operation_id="absence_list",
        tags=[TAG_ABSENCES],
        summary="Absence notes",
        description="Guardians: their children's notes; staff: their school's. Filter by a `day` the note covers, or `unacknowledged=true`.",
        parameters=[AbsenceQueryInput],
        responses={200: AbsenceOutput(many=True), **problems(400, 403)},
        examples=[OpenApiExample("Note", value=ABSENCE_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        query = AbsenceQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        notes = absences.absences_visible_to(request.user)
        day = query.validated_data.get("day")
        if day:
            notes = notes.filter(Q(first_day__lte=day) & Q(last_day__gte=day))
        if query.validated_data["unacknowledged"]:
            notes = notes.filter(acknowledged_at__isnull=True)
        page = self.paginate_queryset(notes.order_by("-id"))
        return self.get_paginated_response(AbsenceOutput(page, many=True).data)


class AbsenceAcknowledgeView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN, StaffRole.TEACHER)]

    @extend_schema(
        operation_id="absence_acknowledge",
        tags=[TAG_ABSENCES],
        summary="Acknowledge an absence note",
        description="The reporting guardian is told in the app. Acknowledging again changes nothing.",
        request=None,
        responses={200: AbsenceOutput, **problems(403, 404)},
        examples=[OpenApiExample("Seen", value={**ABSENCE_EXAMPLE, "acknowledged_at": "2026-11-30T22:00:00Z"}, response_only=True)],
    )
    def post(self, request, absence_id: int):
        staff = staff_for_user(request.user)
        note = get_object_or_404(AbsenceNote.objects.filter(student__school_id=staff.school_id), pk=absence_id)
        return Response(AbsenceOutput(absences.absence_acknowledge(note=note, staff=staff)).data)
