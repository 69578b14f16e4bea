"""Reconciliation: the issues the nightly run found, and a run on demand.

Platform issues belong to platform finance (platform staff); a school's finance and admin staff
see their own school's issues only (wallet.selectors.reconciliation_issues_visible_to)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from api.pagination import CursorPage
from api.permissions import IsPlatformStaff, StaffWithRole
from api.schema import problems
from api.serializers.statements import ReconciliationIssueOutput, ReconciliationIssueQueryInput, ReconciliationRunOutput
from guardians.models import StaffRole
from wallet import reconciliation, selectors
from wallet.models import ReconciliationIssue

TAG_RECONCILIATION = "Reconciliation"
FINANCE = StaffWithRole(StaffRole.FINANCE, StaffRole.ADMIN)

ISSUE_EXAMPLE = {
    "id": 3,
    "run_at": "2026-11-28T16:30:00Z",
    "kind": "balance_mismatch",
    "account_id": 118,
    "account_kind": "student_card",
    "transaction_id": None,
    "expected": 1150,
    "actual": 1250,
    "detail": "Account 118: cached balance 1250 but its entries sum to 1150.",
    "resolved_at": None,
}


class ReconciliationRunThrottle(UserRateThrottle):
    """A run scans the whole ledger: a few on demand an hour is plenty."""

    scope = "reconciliation_run"
    rate = "6/hour"


class ReconciliationIssueListView(GenericAPIView):
    permission_classes = [FINANCE | IsPlatformStaff]
    queryset = ReconciliationIssue.objects.none()  # for the schema generator; requests use the selector
    pagination_class = CursorPage
    filter_backends = []

    @extend_schema(
        operation_id="reconciliation_issue_list",
        tags=[TAG_RECONCILIATION],
        summary="Reconciliation issues",
        description="Mismatches found by reconciliation, newest first: unbalanced transactions, cached balances or "
        "holds that disagree with the entries, and processor clearing that disagrees with the top-ups. "
        "Platform staff see every issue; a school's finance or admin staff see only the issues of their school's "
        "accounts (its students' cards and its merchants), never the platform's or another school's.",
        parameters=[ReconciliationIssueQueryInput],
        responses={200: ReconciliationIssueOutput(many=True), **problems(400, 403)},
        examples=[OpenApiExample("A balance mismatch", value=ISSUE_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        query = ReconciliationIssueQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.reconciliation_issues_visible_to(request.user, state=query.validated_data.get("state")))
        return self.get_paginated_response(ReconciliationIssueOutput(page, many=True).data)


class ReconciliationRunView(APIView):
    # A run scans and reports on the whole platform's ledger, so it is platform finance's to start.
    permission_classes = [IsPlatformStaff]
    throttle_classes = [ReconciliationRunThrottle]

    @extend_schema(
        operation_id="reconciliation_run_create",
        tags=[TAG_RECONCILIATION],
        summary="Run reconciliation now",
        description="Runs every check at once (the nightly job runs the same) and records new issues; an issue "
        "still open from an earlier run is not recorded twice. Platform staff only (the counts cover every school); "
        "a few runs an hour.",
        request=None,
        responses={200: ReconciliationRunOutput, **problems(403, 429)},
        examples=[
            OpenApiExample(
                "Clean ledger",
                value={"checked_transactions": 52110, "checked_accounts": 3804, "issues_found": 0, "new_issues": 0, "ok": True},
                response_only=True,
            )
        ],
    )
    def post(self, request):
        summary = reconciliation.reconciliation_run()
        return Response(ReconciliationRunOutput(summary).data)
