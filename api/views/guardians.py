"""Guardians, students, schools and the links between them."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import IsGuardian, IsGuardianOrStaff, IsPerson, IsTerminal, StaffWithRole
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.guardians import (
    GuardianRegisterInput,
    InviteInput,
    LinkCodeOutput,
    LinkOutput,
    LinkRedeemInput,
    MeOutput,
    MeUpdateInput,
    SchoolOutput,
    StudentOutput,
    TerminalOutput,
)
from api.throttles import LinkCodeThrottle, RegistrationIpThrottle
from guardians import selectors, services
from guardians.errors import PermissionMissing
from guardians.models import StaffRole

TAG_PEOPLE = "People"
TAG_LINKS = "Guardian links"

SCHOOL_EXAMPLE = {
    "id": 1,
    "name": "Harbourside Public School",
    "code": "harbourside",
    "time_zone": "Australia/Sydney",
    "canteen_cutoff": "08:30:00",
    "week_starts_on": 0,
    "postcode": "2000",
}
STUDENT_EXAMPLE = {
    "id": 7,
    "first_name": "Mia",
    "last_name": "Nguyen",
    "date_of_birth": "2016-04-02",
    "year_level": 4,
    "roll_class": "4B",
    "student_number": "HPS-0007",
    "school": SCHOOL_EXAMPLE,
}
LINK_EXAMPLE = {
    "id": 3,
    "guardian_id": 2,
    "guardian_name": "Olivia Nguyen",
    "student_id": 7,
    "student_name": "Mia Nguyen",
    "relationship": "parent",
    "can_manage_money": True,
    "can_give_consent": True,
    "origin": "school_code",
    "created_at": "2026-11-28T03:00:00Z",
    "revoked_at": None,
    "is_active": True,
}
LINK_CODE_EXAMPLE = {
    "code": "7KQ2-M9XD-4RTA",
    "kind": "school",
    "student_id": 7,
    "school_code": "harbourside",
    "grants_money": True,
    "grants_consent": True,
    "expires_at": "2026-12-12T03:00:00Z",
}


def me_payload(user) -> dict:
    guardian = selectors.guardian_for_user(user)
    staff = selectors.staff_for_user(user)
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "guardian": guardian,
        "staff": {"school": staff.school, "roles": staff.roles} if staff else None,
        "is_program_administrator": hasattr(user, "program_admin"),
    }


# Field codes inside a 400 validation_error (guardians/contact_details.py).
CONTACT_CODES = {400: ["phone_invalid", "postcode_invalid"]}

ME_EXAMPLE = OpenApiExample(
    "A guardian",
    value={
        "id": 2,
        "email": "olivia.parent@example.com",
        "first_name": "Olivia",
        "last_name": "Nguyen",
        "phone": "+61400000000",
        "guardian": {"postcode": "2000", "notify_by_email": True, "notify_by_push": True},
        "staff": None,
        "is_program_administrator": False,
    },
    response_only=True,
)


class GuardianRegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [RegistrationIpThrottle]

    @extend_schema(
        operation_id="guardian_register",
        tags=[TAG_PEOPLE],
        summary="Create a guardian account",
        description="Anyone may register as a guardian; children are linked afterwards with a code from the school. "
        "`phone` may be written any usual way (`0400 000 000` is read as Australian) and is stored and returned as "
        "E.164 (`+61400000000`); `postcode` is an Australian postcode. Either invalid is a 400 `validation_error` "
        "whose `errors` name the field with the code `phone_invalid` or `postcode_invalid`.",
        request=GuardianRegisterInput,
        responses={201: MeOutput, **problems(400, CONTACT_CODES, {409: ["email_taken"]}, 429)},
        examples=[
            OpenApiExample(
                "Register",
                value={
                    "email": "olivia.parent@example.com",
                    "password": "correct horse battery",
                    "first_name": "Olivia",
                    "last_name": "Nguyen",
                    "phone": "0400 000 000",
                    "postcode": "2000",
                },
                request_only=True,
            ),
            ME_EXAMPLE,
        ],
        auth=[],
    )
    def post(self, request):
        data = GuardianRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        guardian = services.guardian_register(**data.validated_data)
        return Response(MeOutput(me_payload(guardian.user)).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="me_retrieve",
        tags=[TAG_PEOPLE],
        summary="Who am I",
        description="The signed-in user with their guardian profile, staff roles and program-administrator flag.",
        responses={200: MeOutput},
        examples=[ME_EXAMPLE],
    )
    def get(self, request):
        return Response(MeOutput(me_payload(request.user)).data)

    @extend_schema(
        operation_id="me_update",
        tags=[TAG_PEOPLE],
        summary="Update my profile",
        description="Names, phone, and (for guardians) postcode and notification preferences.",
        request=MeUpdateInput,
        responses={200: MeOutput, **problems(400, CONTACT_CODES)},
        examples=[OpenApiExample("Turn off email", value={"notify_by_email": False}, request_only=True), ME_EXAMPLE],
    )
    def patch(self, request):
        data = MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        guardian = selectors.guardian_for_user(request.user)
        guardian_only = {"postcode", "notify_by_email", "notify_by_push"} & set(fields)
        if guardian is None and guardian_only:
            raise PermissionMissing("Only guardians have notification preferences and a postcode.")
        services.user_profile_update(user=request.user, **fields)
        request.user.refresh_from_db()
        return Response(MeOutput(me_payload(request.user)).data)


class StudentListView(GenericAPIView):
    permission_classes = [IsGuardianOrStaff]
    serializer_class = StudentOutput

    def get_queryset(self):
        return selectors.students_visible_to(self.request.user)

    @extend_schema(
        operation_id="student_list",
        tags=[TAG_PEOPLE],
        summary="List students",
        description="Guardians see the children they are linked to; staff see their school's students.",
        responses={200: StudentOutput(many=True)},
        examples=[OpenApiExample("Students", value=[STUDENT_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StudentOutput(page, many=True).data)


class StudentDetailView(GenericAPIView):
    permission_classes = [IsGuardianOrStaff]

    @extend_schema(
        operation_id="student_retrieve",
        tags=[TAG_PEOPLE],
        summary="Get a student",
        description="404 when the student does not exist or is not yours to see.",
        responses={200: StudentOutput, **problems(404)},
        examples=[OpenApiExample("Student", value=STUDENT_EXAMPLE, response_only=True)],
    )
    def get(self, request, student_id: int):
        student = get_object_or_404(selectors.students_visible_to(request.user), pk=student_id)
        return Response(StudentOutput(student).data)


class SchoolDetailView(APIView):
    permission_classes = [IsGuardianOrStaff]

    @extend_schema(
        operation_id="school_retrieve",
        tags=[TAG_PEOPLE],
        summary="Get a school",
        description="Staff see their own school; guardians the schools of their linked children.",
        responses={200: SchoolOutput, **problems(404)},
        examples=[OpenApiExample("School", value=SCHOOL_EXAMPLE, response_only=True)],
    )
    def get(self, request, school_id: int):
        school = get_object_or_404(selectors.schools_visible_to(request.user), pk=school_id)
        return Response(SchoolOutput(school).data)


class LinkCodeIssueView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN, StaffRole.TEACHER)]

    @extend_schema(
        operation_id="link_code_issue",
        tags=[TAG_LINKS],
        summary="Issue a link code for a student",
        description="School staff (admin or teacher) issue a single-use code that a guardian redeems to link "
        "to the student. The code is shown once; issuing a new one cancels the previous unused code.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={201: LinkCodeOutput, **problems(403, 404, IDEMPOTENCY_PROBLEMS)},
        examples=[OpenApiExample("Link code", value=LINK_CODE_EXAMPLE, response_only=True)],
    )
    @idempotent(required=False)
    def post(self, request, student_id: int):
        staff = selectors.staff_for_user(request.user)
        student = get_object_or_404(selectors.students_visible_to(request.user).filter(school_id=staff.school_id), pk=student_id)
        link_code, raw = services.link_code_issue(student=student, issued_by=request.user)
        return Response(_link_code_payload(link_code, raw), status=status.HTTP_201_CREATED)


class GuardianInviteView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="guardian_invite_create",
        tags=[TAG_LINKS],
        summary="Invite another guardian",
        description="A linked guardian invites a second guardian for the same child. The invitee can receive "
        "no permission the inviter lacks.",
        request=InviteInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={201: LinkCodeOutput, **problems(400, 404, {403: ["permission_missing"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Invite with consent only", value={"grants_money": False, "grants_consent": True}, request_only=True),
            OpenApiExample("Invite code", value={**LINK_CODE_EXAMPLE, "kind": "invite"}, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, student_id: int):
        data = InviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = selectors.active_link(guardian=selectors.guardian_for_user(request.user), student_id=student_id)
        if link is None:
            raise Http404
        link_code, raw = services.guardian_invite_issue(inviter_link=link, **data.validated_data)
        return Response(_link_code_payload(link_code, raw), status=status.HTTP_201_CREATED)


class StudentGuardianListView(APIView):
    permission_classes = [IsGuardianOrStaff]

    @extend_schema(
        operation_id="student_guardian_list",
        tags=[TAG_LINKS],
        summary="Guardians of a student",
        description="Every active guardian link of the student: all of a child's guardians see each other.",
        responses={200: LinkOutput(many=True), **problems(404)},
        examples=[OpenApiExample("Links", value=[LINK_EXAMPLE], response_only=True)],
    )
    def get(self, request, student_id: int):
        student = get_object_or_404(selectors.students_visible_to(request.user), pk=student_id)
        links = selectors.links_for_student(student).select_related("student")
        return Response(LinkOutput(links, many=True).data)


class LinkListView(APIView):
    permission_classes = [IsGuardian]
    throttle_classes = [LinkCodeThrottle]

    def get_throttles(self):
        # Only redeeming (guessing codes) is throttled, not listing.
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="link_list",
        tags=[TAG_LINKS],
        summary="My links to children",
        description="Every child you are linked to, with the permissions your link carries (money, consent).",
        responses={200: LinkOutput(many=True)},
        examples=[OpenApiExample("Links", value=[LINK_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        links = selectors.links_for_guardian(selectors.guardian_for_user(request.user))
        return Response(LinkOutput(links, many=True).data)

    @extend_schema(
        operation_id="link_redeem",
        tags=[TAG_LINKS],
        summary="Link to a child with a code",
        description="Redeem a code from the school (or an invitation from another guardian). The school code "
        "must match the child's school. Attempts are throttled.",
        request=LinkRedeemInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={
            201: LinkOutput,
            **problems(
                400,
                {409: ["link_code_used", "already_linked"], 422: ["link_code_invalid", "link_code_expired", "invalid_relationship"]},
                429,
                IDEMPOTENCY_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample(
                "Redeem",
                value={"school_code": "harbourside", "code": "7KQ2-M9XD-4RTA", "relationship": "parent"},
                request_only=True,
            ),
            OpenApiExample("Link", value=LINK_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = LinkRedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.link_code_redeem(guardian=selectors.guardian_for_user(request.user), **data.validated_data)
        return Response(LinkOutput(link).data, status=status.HTTP_201_CREATED)


class LinkDetailView(APIView):
    permission_classes = [IsGuardianOrStaff]

    @extend_schema(
        operation_id="link_revoke",
        tags=[TAG_LINKS],
        summary="Revoke a guardian link",
        description="The linked guardian may drop their own link; a school admin may revoke any link at their school.",
        responses={204: None, **problems(404)},
        examples=[OpenApiExample("No body", value=None, response_only=True, status_codes=["204"])],
    )
    def delete(self, request, link_id: int):
        link = get_object_or_404(selectors.links_revocable_by(request.user), pk=link_id)
        services.guardian_link_revoke(link=link, revoked_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TerminalMeView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_me",
        tags=["Terminals"],
        summary="Which terminal am I",
        description="The terminal behind the API key and its merchant. Useful to check a key.",
        responses={200: TerminalOutput},
        examples=[
            OpenApiExample(
                "Terminal",
                value={"terminal_id": 1, "label": "Counter 1", "merchant_id": 1, "merchant_name": "Harbourside Canteen", "merchant_categories": ["canteen"]},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(TerminalOutput(request.auth_terminal).data)


def _link_code_payload(link_code, raw: str) -> dict:
    return LinkCodeOutput(
        {
            "code": raw,
            "kind": link_code.kind,
            "student_id": link_code.student_id,
            "school_code": link_code.student.school.code,
            "grants_money": link_code.grants_money,
            "grants_consent": link_code.grants_consent,
            "expires_at": link_code.expires_at,
        }
    ).data
