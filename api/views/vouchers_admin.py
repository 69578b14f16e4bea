"""Program administrators: deciding on providers, and the uptake numbers."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsProgramAdministrator
from api.schema import problems
from api.serializers.vouchers import (
    VoucherProviderApprovalOutput,
    VoucherProviderApproveInput,
    VoucherProviderDecisionInput,
    VoucherUptakeOutput,
    VoucherUptakeQueryInput,
)
from api.views.vouchers import TAG_PROVIDERS, TAG_REPORTS, administered_program
from api.views.vouchers_terminal import APPROVAL_EXAMPLE
from vouchers import reports, selectors, services
from vouchers.models import ApprovalStatus

APPROVED_EXAMPLE = {**APPROVAL_EXAMPLE, "status": "approved", "decided_at": "2026-02-12T01:00:00Z", "expires_on": "2026-12-31"}
UPTAKE_ROW = {
    "key": "1",
    "label": "Active Kids",
    "vouchers_issued": 1200,
    "value_issued": 12000000,
    "vouchers_redeemed": 780,
    "value_redeemed": 7412000,
    "value_forfeited": 388000,
    "redemption_rate": 0.65,
}
UPTAKE_PARAMETERS = [
    OpenApiParameter("program_id", int, required=False, description="One of your programs; default: all of them."),
    OpenApiParameter("group_by", str, enum=list(reports.GROUPINGS), required=False, description="Default `program`."),
    OpenApiParameter("issued_from", OpenApiTypes.DATE, required=False),
    OpenApiParameter("issued_to", OpenApiTypes.DATE, required=False),
]


def _approval(request, program_id: int, approval_id: int):
    program = administered_program(request, program_id)
    return get_object_or_404(selectors.approvals_of_program(program), pk=approval_id)


class ProgramProviderListView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_program_provider_list",
        tags=[TAG_PROVIDERS],
        summary="A program's provider applications and approvals",
        description="Newest first, with the evidence recorded and the decision. Filter by `status` (e.g. `pending` "
        "for the applications waiting for you).",
        parameters=[OpenApiParameter("status", str, enum=ApprovalStatus.values, required=False)],
        responses={200: VoucherProviderApprovalOutput(many=True), **problems(403, 404)},
        examples=[OpenApiExample("Applications", value=[APPROVAL_EXAMPLE], response_only=True)],
    )
    def get(self, request, program_id: int):
        approvals = selectors.approvals_of_program(administered_program(request, program_id))
        if request.query_params.get("status"):
            approvals = approvals.filter(status=request.query_params["status"])
        return Response(VoucherProviderApprovalOutput(approvals, many=True).data)


class ProviderApproveView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_provider_approve",
        tags=[TAG_PROVIDERS],
        summary="Approve a provider",
        description="Record the evidence you checked: ABN, public liability insurance expiry and, for a children's "
        "program, the working-with-children check expiry. The approval stops working on its own when it, the "
        "insurance or the check expires. `stripe_account_id` is where settlements are paid. Approving an approved "
        "provider updates its evidence.",
        request=VoucherProviderApproveInput,
        responses={
            200: VoucherProviderApprovalOutput,
            **problems(400, 403, 404, {409: ["approval_state_invalid"], 422: ["wwcc_required", "evidence_expired", "invalid_abn", "category_not_offered"]}),
        },
        examples=[
            OpenApiExample(
                "Approve",
                value={"abn": "51824753556", "insurance_expires_on": "2027-06-30", "wwcc_expires_on": "2028-01-31", "expires_on": "2026-12-31", "stripe_account_id": "acct_1PzSwimClub01"},
                request_only=True,
            ),
            OpenApiExample("Approved", value=APPROVED_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request, program_id: int, approval_id: int):
        approval = _approval(request, program_id, approval_id)
        data = VoucherProviderApproveInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.provider_approve(approval=approval, decided_by=request.user, **data.validated_data)
        return Response(VoucherProviderApprovalOutput(approval).data)


def _decision_view(decision: str, summary: str, description: str, example_status: str):
    class ProviderDecisionView(APIView):
        permission_classes = [IsProgramAdministrator]

        @extend_schema(
            operation_id=f"voucher_provider_{decision}",
            tags=[TAG_PROVIDERS],
            summary=summary,
            description=description,
            request=VoucherProviderDecisionInput,
            responses={200: VoucherProviderApprovalOutput, **problems(400, 403, 404, {409: ["approval_state_invalid"]})},
            examples=[
                OpenApiExample("Why", value={"reason": "Insurance certificate could not be verified"}, request_only=True),
                OpenApiExample("Decided", value={**APPROVED_EXAMPLE, "status": example_status}, response_only=True),
            ],
        )
        def post(self, request, program_id: int, approval_id: int):
            approval = _approval(request, program_id, approval_id)
            data = VoucherProviderDecisionInput(data=request.data)
            data.is_valid(raise_exception=True)
            approval = services.provider_decide(
                approval=approval, decided_by=request.user, decision=decision, reason=data.validated_data["reason"]
            )
            return Response(VoucherProviderApprovalOutput(approval).data)

    ProviderDecisionView.__name__ = f"Provider{decision.title()}View"
    return ProviderDecisionView


ProviderRejectView = _decision_view("reject", "Reject a provider's application", "Only a pending application.", "rejected")
ProviderSuspendView = _decision_view(
    "suspend", "Suspend a provider", "Takes effect at the provider's next redemption; its terminals are refused with "
    "`merchant_approval_suspended`. Past redemptions are still settled.", "suspended"
)
ProviderReinstateView = _decision_view("reinstate", "Reinstate a suspended provider", "The recorded evidence must still be current to redeem.", "approved")


def _uptake(request):
    query = VoucherUptakeQueryInput(data=request.query_params)
    query.is_valid(raise_exception=True)
    values = query.validated_data
    programs = selectors.programs_administered_by(request.user)
    if "program_id" in values:
        programs = programs.filter(pk=administered_program(request, values["program_id"]).pk)
    return reports.uptake(
        programs=programs, group_by=values["group_by"], issued_from=values.get("issued_from"), issued_to=values.get("issued_to")
    )


class VoucherUptakeView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_uptake_retrieve",
        tags=[TAG_REPORTS],
        summary="Uptake of my programs",
        description="Vouchers issued and redeemed (spent at least in part), value issued, redeemed and forfeited, "
        "and the redemption rate, by program, school, postcode (the family's) or category. Cancelled vouchers are "
        "left out; voided redemptions do not count. By category, an issued voucher counts under each category it "
        "may be spent in; redemptions under the category they were booked in.",
        parameters=UPTAKE_PARAMETERS,
        responses={200: VoucherUptakeOutput, **problems(400, 403, 404)},
        examples=[
            OpenApiExample(
                "By program",
                value={"group_by": "program", "rows": [UPTAKE_ROW], "totals": {**UPTAKE_ROW, "key": "", "label": "All"}},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        report = _uptake(request)
        return Response(VoucherUptakeOutput(report).data)


class VoucherUptakeCsvView(APIView):
    permission_classes = [IsProgramAdministrator]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="voucher_uptake_csv",
        tags=[TAG_REPORTS],
        summary="Uptake of my programs (CSV)",
        description="The same numbers as a spreadsheet: one line per group, then a line of totals.",
        parameters=UPTAKE_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="Columns: " + ", ".join(f"`{column}`" for column in reports.CSV_COLUMNS) + ".",
                examples=[
                    OpenApiExample(
                        "CSV",
                        value=",".join(reports.CSV_COLUMNS) + "\nprogram,1,Active Kids,1200,12000000,780,7412000,74120.00,388000,0.6500\n",
                        media_type="text/csv",
                        response_only=True,
                    )
                ],
            ),
            **problems(400, 403, 404),
        },
    )
    def get(self, request):
        response = HttpResponse(reports.uptake_csv(_uptake(request)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="tuckbox-voucher-uptake.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
