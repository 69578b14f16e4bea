"""Leavers: a school's admins mark a student as leaving, look the decision up, or undo it before the day."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import HEADER, caller_scope, idempotent
from api.permissions import StaffWithRole
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.leavers import StudentLeaverInput, StudentLeaverOutput
from guardians import leavers, selectors
from guardians.errors import LeaverNotFound
from guardians.models import StaffRole

TAG = "Leavers"
LEAVER_EXAMPLE = {
    "id": 3,
    "student_id": 7,
    "leaving_on": "2026-12-18",
    "reason": "completed",
    "status": "scheduled",
    "marked_at": "2026-12-07T01:30:00Z",
    "marked_by_user_id": 12,
    "processed_at": None,
    "undone_at": None,
    "retain_until": "2033-12-19",
    "deidentified_at": None,
}


def _school_student(request, student_id: int):
    """A student of the caller's school, or 404: another school's student looks like no student."""
    staff = selectors.staff_for_user(request.user)
    return get_object_or_404(selectors.students_visible_to(request.user).filter(school_id=staff.school_id), pk=student_id)


class StudentLeaverView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN)]

    @extend_schema(
        operation_id="student_leaver_mark",
        tags=[TAG],
        summary="Mark a student as leaving the school",
        description="School admins only. On the leaving day (at once, if it has come) the student's card closes and "
        "its balance goes back, without a fee, to the wallets that funded it; canteen orders and event sign-ups from "
        "that day on are cancelled and refunded. The personal data is de-identified after the retention period "
        "(`retain_until`; docs/privacy.md).",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=StudentLeaverInput,
        responses={
            201: StudentLeaverOutput,
            **problems(400, 403, 404, {409: ["student_already_leaving"], 422: ["leaving_date_invalid"]}, IDEMPOTENCY_PROBLEMS),
        },
        examples=[
            OpenApiExample("Mark", value={"leaving_on": "2026-12-18", "reason": "completed"}, request_only=True),
            OpenApiExample("Scheduled", value=LEAVER_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, student_id: int):
        data = StudentLeaverInput(data=request.data)
        data.is_valid(raise_exception=True)
        student = _school_student(request, student_id)
        key = request.headers.get(HEADER)
        leaver = leavers.leaver_mark(
            student=student,
            leaving_on=data.validated_data["leaving_on"],
            reason=data.validated_data["reason"],
            marked_by=request.user,
            request_key=f"{caller_scope(request)}:{key}" if key else None,
        )
        return Response(StudentLeaverOutput(leaver).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="student_leaver_retrieve",
        tags=[TAG],
        summary="A student's leaving decision",
        description="The live decision (scheduled, left or de-identified); 404 `leaver_not_found` when the student "
        "is not marked as leaving, or the decision was undone.",
        responses={200: StudentLeaverOutput, **problems(403, {404: ["not_found", "leaver_not_found"]})},
        examples=[OpenApiExample("Left", value={**LEAVER_EXAMPLE, "status": "left", "processed_at": "2026-12-17T13:23:00Z"}, response_only=True)],
    )
    def get(self, request, student_id: int):
        leaver = leavers.live_leaver(_school_student(request, student_id))
        if leaver is None:
            raise LeaverNotFound()
        return Response(StudentLeaverOutput(leaver).data)

    @extend_schema(
        operation_id="student_leaver_undo",
        tags=[TAG],
        summary="Undo a leaving decision before the leaving day",
        description="Nothing has happened yet before the leaving day, so nothing needs reversing; from that day on the "
        "card is closed and the decision stands.",
        responses={200: StudentLeaverOutput, **problems(403, {404: ["not_found", "leaver_not_found"], 409: ["leaver_already_left"]})},
        examples=[OpenApiExample("Undone", value={**LEAVER_EXAMPLE, "status": "undone", "undone_at": "2026-12-08T02:00:00Z"}, response_only=True)],
    )
    def delete(self, request, student_id: int):
        leaver = leavers.leaver_undo(student=_school_student(request, student_id), by_user=request.user)
        return Response(StudentLeaverOutput(leaver).data)
