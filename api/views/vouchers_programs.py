"""Voucher programs: administrators define them and manage their vouchers; families apply."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import IsPerson, IsProgramAdministrator
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.vouchers import (
    VoucherAdminOutput,
    VoucherApplicationInput,
    VoucherAttestationInput,
    VoucherAttestationOutput,
    VoucherBulkIssueInput,
    VoucherBulkIssueJobOutput,
    VoucherEndInput,
    VoucherOutput,
    VoucherProgramCreateInput,
    VoucherProgramOutput,
    VoucherProgramUpdateInput,
)
from api.views.vouchers import ELIGIBILITY_CODES, TAG_PROGRAMS, VOUCHER_EXAMPLE, administered_program
from guardians import selectors as people
from guardians.errors import PermissionMissing
from guardians.models import Student, User
from vouchers import eligibility, issuing, numbers, selectors, services
from vouchers.errors import WrongBeneficiaryKind
from vouchers.models import BeneficiaryKind, Voucher, VoucherState

PROGRAM_EXAMPLE = {
    "id": 1,
    "name": "Active Kids",
    "code": "active-kids",
    "description": "$100 a year towards sport and active recreation.",
    "beneficiary_kind": "child",
    "face_value": 10000,
    "issue_windows": [
        {"id": 1, "name": "Calendar year", "opens_month": 1, "opens_day": 1, "closes_month": 12, "closes_day": 31, "voucher_count": 1, "categories": ["sport"], "expiry_rule": "", "expiry_date": None, "expiry_period": None}
    ],
    "time_zone": "Australia/Sydney",
    "starts_on": "2026-01-01",
    "ends_on": None,
    "is_active": True,
    "min_age_months": 54,
    "max_age_months": 227,
    "age_reference_month": None,
    "age_reference_day": None,
    "requires_enrolment": True,
    "eligible_school_ids": [],
    "requires_residency": True,
    "residency_self_declared": True,
    "requires_means_test": False,
    "expiry_rule": "end_of_year",
    "expiry_date": None,
    "expiry_period": None,
    "categories": ["sport"],
    "allowed_weekdays": [0, 1, 2, 3, 4, 5, 6],
    "use_rule": "single_use",
    "stackable": False,
    "one_provider": True,
    "once_per_term": True,
}
PROGRAM_CREATE_EXAMPLE = {
    "name": "Active and Creative Kids",
    "code": "active-creative-kids",
    "beneficiary_kind": "child",
    "face_value": 5000,
    "issue_windows": [
        {"name": "Voucher 1", "opens_month": 2, "opens_day": 1, "expiry_rule": "end_of_year"},
        {"name": "Voucher 2", "opens_month": 7, "opens_day": 15, "expiry_rule": "months_after_issue", "expiry_period": 12},
    ],
    "starts_on": "2026-02-01",
    "min_age_months": 54,
    "max_age_months": 227,
    "requires_enrolment": True,
    "requires_residency": True,
    "requires_means_test": True,
    "categories": ["sport", "creative", "music"],
    "use_rule": "partial",
    "stackable": True,
}
JOB_EXAMPLE = {
    "id": 5,
    "program_id": 1,
    "status": "running",
    "total_rows": 1200,
    "processed_rows": 300,
    "progress_percent": 25,
    "issued_vouchers": 290,
    "skipped_rows": 8,
    "failed_rows": 2,
    "errors": [{"row": 14, "code": "not_eligible_age", "message": "The beneficiary's age is outside the program's range."}],
    "created_at": "2026-03-01T23:00:00Z",
    "started_at": "2026-03-01T23:00:01Z",
    "finished_at": None,
}


class VoucherProgramListView(APIView):
    def get_permissions(self):
        return [IsProgramAdministrator()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        operation_id="voucher_program_list",
        tags=[TAG_PROGRAMS],
        summary="Voucher programs",
        description="The programs taking applications, with their rules, for families and for merchants' terminals "
        "(to apply as providers). Program administrators also see their own programs that are switched off.",
        responses={200: VoucherProgramOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Programs", value=[PROGRAM_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        return Response(VoucherProgramOutput(selectors.programs_visible_to(request.user), many=True).data)

    @extend_schema(
        operation_id="voucher_program_create",
        tags=[TAG_PROGRAMS],
        summary="Define a program",
        description="Program administrators only; the creator administers it. Without `issue_windows`, the "
        "program issues `vouchers_per_period` vouchers per calendar year. A funding account is opened in the "
        "ledger: redemptions move money from it to merchants.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=VoucherProgramCreateInput,
        responses={
            201: VoucherProgramOutput,
            **problems(400, 403, {422: ["category_not_offered", "expiry_rule_incomplete", "program_code_taken"]}, IDEMPOTENCY_PROBLEMS),
        },
        examples=[
            OpenApiExample("Two vouchers a year", value=PROGRAM_CREATE_EXAMPLE, request_only=True),
            OpenApiExample("Program", value=PROGRAM_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = VoucherProgramCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        windows = [services.WindowSpec(**window) for window in fields.pop("issue_windows")]
        program = services.program_create(
            created_by=request.user.program_admin,
            windows=windows,
            vouchers_per_period=fields.pop("vouchers_per_period"),
            eligible_school_ids=fields.pop("eligible_school_ids"),
            **fields,
        )
        return Response(VoucherProgramOutput(program).data, status=status.HTTP_201_CREATED)


class VoucherProgramDetailView(APIView):
    def get_permissions(self):
        return [IsProgramAdministrator()] if self.request.method == "PATCH" else [IsAuthenticated()]

    @extend_schema(
        operation_id="voucher_program_retrieve",
        tags=[TAG_PROGRAMS],
        summary="A voucher program",
        description="Its rules: value, issue windows, eligibility, expiry, categories, weekdays and use. A program "
        "switched off is visible to its administrators only.",
        responses={200: VoucherProgramOutput, **problems(403, 404)},
        examples=[OpenApiExample("Program", value=PROGRAM_EXAMPLE, response_only=True)],
    )
    def get(self, request, program_id: int):
        return Response(VoucherProgramOutput(get_object_or_404(selectors.programs_visible_to(request.user), pk=program_id)).data)

    @extend_schema(
        operation_id="voucher_program_update",
        tags=[TAG_PROGRAMS],
        summary="Change a program",
        description="What may change while vouchers are out: name, description, whether it takes applications, its "
        "last day, and its weekdays (which apply to the next redemption).",
        request=VoucherProgramUpdateInput,
        responses={200: VoucherProgramOutput, **problems(400, 403, 404, {422: ["program_dates_invalid"]})},
        examples=[
            OpenApiExample("Every day now", value={"allowed_weekdays": [0, 1, 2, 3, 4, 5, 6]}, request_only=True),
            OpenApiExample("Program", value=PROGRAM_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, program_id: int):
        program = administered_program(request, program_id)
        data = VoucherProgramUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        program = services.program_update(program=program, **data.validated_data)
        return Response(VoucherProgramOutput(program).data)


class VoucherApplicationView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="voucher_apply",
        tags=[TAG_PROGRAMS],
        summary="Apply for a program's vouchers",
        description="A guardian applies for a linked child (`student_id`, with the money permission on the link); "
        "an adult applies for themselves (`date_of_birth` with the first application). Eligibility is checked now, "
        "in the program's time zone; every refusal has its code. Issues this period's vouchers of every open issue "
        "window the beneficiary does not have yet; the applicant holds them.",
        request=VoucherApplicationInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={
            201: VoucherOutput(many=True),
            **problems(
                400,
                404,
                {403: ["permission_missing"], 409: ["already_issued_this_period"], 422: ELIGIBILITY_CODES},
                IDEMPOTENCY_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample("For my child", value={"student_id": 7, "declare_residency": True}, request_only=True),
            OpenApiExample("For myself", value={"date_of_birth": "1984-06-02", "postcode": "2000", "declare_residency": True}, request_only=True),
            OpenApiExample("Issued", value=[VOUCHER_EXAMPLE], response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, program_id: int):
        program = get_object_or_404(selectors.programs_visible_to(request.user), pk=program_id)
        data = VoucherApplicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if program.beneficiary_kind == BeneficiaryKind.CHILD:
            if "student_id" not in values:
                raise WrongBeneficiaryKind(f"{program.name} is for children: give the student_id of your linked child.")
            link = people.active_link(guardian=people.guardian_for_user(request.user), student_id=values["student_id"])
            if link is None:
                raise Http404
            if not link.can_manage_money:
                raise PermissionMissing("Your link to this child does not allow managing money.")
            beneficiary = eligibility.child(link.student, postcode=link.guardian.postcode)
        else:
            if "student_id" in values:
                raise WrongBeneficiaryKind(f"{program.name} is for adults applying for themselves.")
            profile = issuing.adult_beneficiary_for(user=request.user, date_of_birth=values.get("date_of_birth"), postcode=values["postcode"])
            beneficiary = eligibility.adult(profile)
        vouchers = issuing.voucher_apply(
            program=program, applicant=request.user, beneficiary=beneficiary, residency_declared=values["declare_residency"]
        )
        issued = selectors.vouchers_held_by(request.user).filter(pk__in=[voucher.pk for voucher in vouchers]).order_by("pk")
        return Response(VoucherOutput(issued, many=True).data, status=status.HTTP_201_CREATED)


class ProgramVoucherListView(GenericAPIView):
    permission_classes = [IsProgramAdministrator]
    queryset = Voucher.objects.none()  # for the schema generator
    filter_backends = []

    @extend_schema(
        operation_id="voucher_program_voucher_list",
        tags=[TAG_PROGRAMS],
        summary="A program's vouchers",
        description="Newest first. Filter by `number` (as printed or typed) or `state`.",
        parameters=[
            OpenApiParameter("number", str, required=False),
            OpenApiParameter("state", str, enum=[s for s, _ in VoucherState.choices if s != VoucherState.EXPIRED], required=False),
        ],
        responses={200: VoucherAdminOutput(many=True), **problems(403, 404)},
        examples=[
            OpenApiExample(
                "Voucher",
                value={**VOUCHER_EXAMPLE, "holder_id": 12, "holder_email": "olivia.parent@example.com", "issue_source": "application", "ended_at": None, "end_reason": ""},
                response_only=True,
            )
        ],
    )
    def get(self, request, program_id: int):
        vouchers = selectors.vouchers_of_program(administered_program(request, program_id))
        if request.query_params.get("number"):
            vouchers = vouchers.filter(number=numbers.normalise(request.query_params["number"]) or "-")
        if request.query_params.get("state"):
            vouchers = vouchers.filter(state=request.query_params["state"])
        page = self.paginate_queryset(vouchers)
        return self.get_paginated_response(VoucherAdminOutput(page, many=True).data)


def _voucher_end_view(action: str, summary: str, description: str):
    class VoucherEndView(APIView):
        permission_classes = [IsProgramAdministrator]

        @extend_schema(
            operation_id=f"voucher_{action}",
            tags=[TAG_PROGRAMS],
            summary=summary,
            description=description,
            request=VoucherEndInput,
            responses={200: VoucherAdminOutput, **problems(400, 403, 404, {409: ["voucher_state_invalid"]})},
            examples=[
                OpenApiExample("Why", value={"reason": "Duplicate enrolment found"}, request_only=True),
                OpenApiExample(
                    "Ended",
                    value={**VOUCHER_EXAMPLE, "state": f"{action}d" if action == "revoke" else "cancelled", "holder_id": 12, "holder_email": "olivia.parent@example.com", "issue_source": "application", "ended_at": "2026-05-02T01:00:00Z", "end_reason": "Duplicate enrolment found"},
                    response_only=True,
                ),
            ],
        )
        def post(self, request, program_id: int, voucher_id: int):
            voucher = get_object_or_404(selectors.vouchers_of_program(administered_program(request, program_id)), pk=voucher_id)
            data = VoucherEndInput(data=request.data)
            data.is_valid(raise_exception=True)
            services.voucher_end(voucher=voucher, ended_by=request.user, action=action, reason=data.validated_data["reason"])
            return Response(VoucherAdminOutput(selectors.vouchers_of_program(voucher.program).get(pk=voucher.pk)).data)

    VoucherEndView.__name__ = f"Voucher{action.title()}View"
    return VoucherEndView


VoucherRevokeView = _voucher_end_view(
    "revoke",
    "Revoke a voucher",
    "Stops the voucher for good (fraud, ineligibility found later): what is left is frozen and the period stays "
    "used. Past redemptions stand. The holder is told. Revoking again is harmless.",
)
VoucherCancelView = _voucher_end_view(
    "cancel",
    "Cancel a voucher issued in error",
    "Only an unused voucher; the beneficiary may then apply again this period. The holder is told.",
)


class VoucherAttestationView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_attestation_create",
        tags=[TAG_PROGRAMS],
        summary="Attest an eligibility fact",
        description="Record that you vouch for a fact about a child (`student_id`) or an adult or guardian "
        "(`user_id`): school enrolment (for a child not on a participating school's roll), residency, or the "
        "family's means test (e.g. Family Tax Benefit). Who attested and when is kept with it.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=VoucherAttestationInput,
        responses={201: VoucherAttestationOutput, **problems(400, 403, 404, {422: ["attestation_dates_invalid"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Means test", value={"kind": "means_test", "user_id": 12, "evidence": "FTB A, Services Australia letter 2026-02-03", "valid_until": "2026-12-31"}, request_only=True),
            OpenApiExample(
                "Recorded",
                value={"id": 3, "kind": "means_test", "student_id": None, "user_id": 12, "source": "administrator", "attested_by_id": 2, "evidence": "FTB A, Services Australia letter 2026-02-03", "valid_from": "2026-03-01", "valid_until": "2026-12-31", "created_at": "2026-03-01T01:00:00Z"},
                response_only=True,
            ),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = VoucherAttestationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        student_id, user_id = values.pop("student_id", None), values.pop("user_id", None)
        student = get_object_or_404(Student, pk=student_id) if student_id else None
        user = get_object_or_404(User, pk=user_id, is_active=True) if user_id else None
        attestation = services.attestation_record(attested_by=request.user, student=student, user=user, **values)
        return Response(VoucherAttestationOutput(attestation).data, status=status.HTTP_201_CREATED)


class VoucherBulkIssueView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_bulk_issue_create",
        tags=[TAG_PROGRAMS],
        summary="Issue vouchers from a CSV",
        description="Queues a job that issues each row's vouchers with the same rules as an application (rows that "
        "fail are listed with their code; beneficiaries who already have them are skipped). Poll the job for "
        "progress. A child's voucher is held by `guardian_email`, or else by the first linked guardian with the "
        "money permission. A failed row's code is one of an application's, or `unknown_student`, `unknown_user`, "
        "`no_guardian`.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=VoucherBulkIssueInput,
        responses={202: VoucherBulkIssueJobOutput, **problems(400, 403, 404, {422: ["bulk_csv_invalid"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Children", value={"csv": "school_code,student_number\nharbourside,HPS-0001\nharbourside,HPS-0002\n"}, request_only=True),
            OpenApiExample(
                "Queued",
                value={**JOB_EXAMPLE, "status": "queued", "processed_rows": 0, "progress_percent": 0, "issued_vouchers": 0, "skipped_rows": 0, "failed_rows": 0, "errors": [], "started_at": None},
                response_only=True,
                status_codes=[202],
            ),
        ],
    )
    @idempotent(required=False)
    def post(self, request, program_id: int):
        program = administered_program(request, program_id)
        data = VoucherBulkIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = issuing.bulk_issue_job_create(program=program, created_by=request.user, csv_text=data.validated_data["csv"])
        job.refresh_from_db()
        return Response(
            VoucherBulkIssueJobOutput(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/voucher-bulk-issues/{job.pk}"},
        )


class VoucherBulkIssueDetailView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_bulk_issue_retrieve",
        tags=[TAG_PROGRAMS],
        summary="Progress of a bulk issue",
        description="Poll until `status` is `completed`: rows processed so far, vouchers issued, rows skipped (the "
        "beneficiary already had them) and rows refused, each with its line number and code.",
        responses={200: VoucherBulkIssueJobOutput, **problems(403, 404)},
        examples=[OpenApiExample("Running", value=JOB_EXAMPLE, response_only=True)],
    )
    def get(self, request, job_id: int):
        return Response(VoucherBulkIssueJobOutput(get_object_or_404(selectors.bulk_jobs_visible_to(request.user), pk=job_id)).data)
