"""Voucher settlement over HTTP: a program administrator previews, runs and reads a program's
settlement runs; a merchant's terminal downloads its own remittances."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import IsProgramAdministrator, IsTerminal
from api.schema import IDEMPOTENCY_HEADER_REQUIRED, IDEMPOTENCY_REQUIRED_PROBLEMS, problems
from api.serializers.settlements import (
    SettlementPeriodInput,
    SettlementPreviewOutput,
    SettlementRunDetailOutput,
    SettlementRunOutput,
)
from api.views.vouchers import TAG_TERMINAL, administered_program
from vouchers import selectors, settlement_reads
from vouchers.models import SettlementRun
from vouchers.remittance_pdf import remittance_pdf
from vouchers.settlement_runs import settlement_period, settlement_run_execute

TAG_SETTLEMENTS = "Voucher settlements"
PERIOD_CODES = {422: ["settlement_period_open"]}
# The one way in for each caller (api/auth.py's schemes): administrators sign in, terminals send their key.
PROGRAM_ADMIN_AUTH = [{"bearerAuth": []}]
TERMINAL_AUTH = [{"terminalKey": []}]

PREVIEW_EXAMPLE = {
    "program_id": 1,
    "business_date": "2026-03-02",
    "cutoff_at": "2026-03-02T13:00:00Z",
    "time_zone": "Australia/Sydney",
    "existing_run_id": None,
    "total_amount": 8500,
    "currency": "AUD",
    "lines": [
        {
            "merchant_id": 4,
            "merchant_name": "Harbourside Swim Club",
            "redemption_count": 2,
            "redeemed_amount": 8500,
            "voided_amount": 0,
            "amount": 8500,
            "payable_balance": 9700,
            "will_be_paid": True,
            "held_back_reason": "",
        }
    ],
}
RUN_EXAMPLE = {
    "id": 9,
    "program_id": 1,
    "business_date": "2026-03-02",
    "cutoff_at": "2026-03-02T13:00:00Z",
    "time_zone": "Australia/Sydney",
    "started_by": "api",
    "created_at": "2026-03-02T22:05:00Z",
    "settlement_count": 1,
    "pending_payout_count": 0,
    "failed_count": 0,
    "totals": {"redeemed_amount": 8500, "voided_amount": 0, "amount": 8500, "paid_amount": 8500},
    "currency": "AUD",
}
RUN_DETAIL_EXAMPLE = {
    **RUN_EXAMPLE,
    "lines": [
        {
            "settlement_id": 12,
            "merchant_id": 4,
            "merchant_name": "Harbourside Swim Club",
            "redeemed_amount": 8500,
            "voided_amount": 0,
            "amount": 8500,
            "currency": "AUD",
            "status": "paid",
            "transfer_id": "tr_1PzT2xSwimClub",
            "transaction_id": 311,
            "reversal_transaction_id": None,
            "paid_at": "2026-03-02T22:05:02Z",
        }
    ],
    "transaction_ids": [311],
}
PDF_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.BINARY,
    description="A PDF document: the merchant's remittance advice for one settlement.",
    examples=[OpenApiExample("PDF", value="%PDF-1.4 ...", media_type="application/pdf", response_only=True)],
)


def _run(request, program_id: int, run_id: int) -> SettlementRun:
    run = settlement_reads.run_of_program(administered_program(request, program_id), run_id)
    if run is None:
        raise Http404
    return run


def _detail(run: SettlementRun) -> dict:
    lines = list(settlement_reads.settlements_of_run(run))
    return SettlementRunDetailOutput(run, context={"lines": lines}).data


def _pdf_response(settlement) -> HttpResponse:
    response = HttpResponse(remittance_pdf(settlement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="tuckbox-remittance-{settlement.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


class _FileView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # The body is a file whatever the Accept header says; errors stay problem+json.
        return super().perform_content_negotiation(request, force=True)


class SettlementPreviewView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_settlement_preview",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="Preview a settlement",
        description="What a run for `business_date` would pay each merchant now, from the program's unsettled "
        "redemptions and the voids of redemptions already paid; nothing is written. The day is the program's "
        "time zone's, judged now: a day that has not ended there is `settlement_period_open`. Merchants that "
        "would not be paid say why (`held_back_reason`). When the day already has a run, `existing_run_id` names "
        "it and the lines are empty: running again pays nothing.",
        parameters=[OpenApiParameter("business_date", OpenApiTypes.DATE, required=False, description="Default: yesterday, program time zone.")],
        responses={200: SettlementPreviewOutput, **problems(400, 403, 404, PERIOD_CODES)},
        examples=[OpenApiExample("Preview", value=PREVIEW_EXAMPLE, response_only=True)],
    )
    def get(self, request, program_id: int):
        program = administered_program(request, program_id)
        query = SettlementPeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = settlement_reads.settlement_preview(program=program, business_date=query.validated_data.get("business_date"))
        return Response(SettlementPreviewOutput(preview, context={"program": program}).data)


class SettlementRunListView(GenericAPIView):
    permission_classes = [IsProgramAdministrator]
    queryset = SettlementRun.objects.none()  # for the schema generator
    filter_backends = []

    @extend_schema(
        operation_id="voucher_settlement_run_list",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="A program's settlement runs",
        description="Newest day first, each with its totals: the nightly job's, the operators' and yours.",
        responses={200: SettlementRunOutput(many=True), **problems(403, 404)},
        examples=[OpenApiExample("Runs", value=RUN_EXAMPLE, response_only=True)],
    )
    def get(self, request, program_id: int):
        page = self.paginate_queryset(settlement_reads.runs_of_program(administered_program(request, program_id)))
        return self.get_paginated_response(SettlementRunOutput(page, many=True).data)

    @extend_schema(
        operation_id="voucher_settlement_run_create",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="Run a settlement",
        description="Pays every merchant of the program for its redemptions before the end of `business_date` "
        "(program time zone, default yesterday) not yet settled, less voids of redemptions paid before: one "
        "ledger transaction per merchant (merchant payable -> voucher payouts), then a Stripe Connect transfer "
        "each, after commit. One run per program and day, however many ask at once: the first request makes it "
        "(201), any other gets the same run (200) and pays nothing more. A merchant owed nothing, or without a "
        "payout account, waits for a later run. A run still being made by someone else for longer than a few "
        "seconds answers `settlement_in_progress`; retry.",
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        request=SettlementPeriodInput,
        responses={
            201: SettlementRunDetailOutput,
            200: SettlementRunDetailOutput,
            **problems(400, 403, 404, PERIOD_CODES, {409: ["settlement_in_progress"]}, IDEMPOTENCY_REQUIRED_PROBLEMS),
        },
        examples=[
            OpenApiExample("Yesterday", value={}, request_only=True),
            OpenApiExample("A given day", value={"business_date": "2026-03-02"}, request_only=True),
            OpenApiExample("Run", value={**RUN_DETAIL_EXAMPLE, "pending_payout_count": 1, "totals": {**RUN_EXAMPLE["totals"], "paid_amount": 0}, "lines": [{**RUN_DETAIL_EXAMPLE["lines"][0], "status": "pending_payout", "transfer_id": "", "paid_at": None}]}, response_only=True),
        ],
    )
    @idempotent(required=True)
    def post(self, request, program_id: int):
        program = administered_program(request, program_id)
        data = SettlementPeriodInput(data=request.data)
        data.is_valid(raise_exception=True)
        period = settlement_period(program=program, business_date=data.validated_data.get("business_date"))
        run, made = settlement_run_execute(program=program, period=period, started_by="api", user=request.user, pay_after_commit=True)
        run = settlement_reads.run_of_program(program, run.pk)
        return Response(_detail(run), status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


class SettlementRunDetailView(APIView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_settlement_run_retrieve",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="One settlement run",
        description="Its lines, merchant by merchant (amounts, transfer, status, the ledger transaction and any "
        "reversal), its totals, and every ledger transaction it posted. Another program's run is 404.",
        responses={200: SettlementRunDetailOutput, **problems(403, 404)},
        examples=[OpenApiExample("Run", value=RUN_DETAIL_EXAMPLE, response_only=True)],
    )
    def get(self, request, program_id: int, run_id: int):
        return Response(_detail(_run(request, program_id, run_id)))


class SettlementRunCsvView(_FileView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_settlement_run_csv",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="A settlement run's statement (CSV, all merchants)",
        description="Each merchant's statement lines, led by the merchant: one line per redemption paid, "
        "redeemed-and-voided before payment (0), or voided after an earlier payment (negative). A merchant's "
        "`amount_cents` sum to its payout. Times are the program's zone's; voucher numbers are masked.",
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="Columns: " + ", ".join(f"`{column}`" for column in settlement_reads.RUN_CSV_COLUMNS) + ".",
                examples=[
                    OpenApiExample(
                        "CSV",
                        value=",".join(settlement_reads.RUN_CSV_COLUMNS)
                        + "\n4,Harbourside Swim Club,12,2026-03-02,redemption,88,2026-03-02T16:10:00+11:00,,Active Kids,sport,*****-*****-TA0B5,8500,85.00,AUD\n",
                        media_type="text/csv",
                        response_only=True,
                    )
                ],
            ),
            **problems(403, 404),
        },
    )
    def get(self, request, program_id: int, run_id: int):
        run = _run(request, program_id, run_id)
        response = HttpResponse(settlement_reads.run_csv(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="tuckbox-settlement-run-{run.pk}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class SettlementRemittancePdfView(_FileView):
    permission_classes = [IsProgramAdministrator]

    @extend_schema(
        operation_id="voucher_settlement_remittance_pdf",
        auth=PROGRAM_ADMIN_AUTH,
        tags=[TAG_SETTLEMENTS],
        summary="A merchant's remittance advice (PDF)",
        description="One merchant's settlement in the run: the period, each line and the totals paid, the transfer "
        "and the ledger transaction. The same settlement always gives the same bytes.",
        responses={(200, "application/pdf"): PDF_RESPONSE, **problems(403, 404)},
    )
    def get(self, request, program_id: int, run_id: int, settlement_id: int):
        settlement = settlement_reads.settlement_of_run(_run(request, program_id, run_id), settlement_id)
        if settlement is None:
            raise Http404
        return _pdf_response(settlement)


class TerminalRemittancePdfView(_FileView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_settlement_remittance_pdf",
        auth=TERMINAL_AUTH,
        tags=[TAG_TERMINAL],
        summary="A settlement's remittance advice (PDF)",
        description="This merchant's remittance for one settlement: the program, the period, each line and the "
        "totals paid, and the transfer. Another merchant's settlement is 404.",
        responses={(200, "application/pdf"): PDF_RESPONSE, **problems(403, 404)},
    )
    def get(self, request, settlement_id: int):
        settlement = get_object_or_404(selectors.settlements_of_merchant(request.auth_terminal.merchant), pk=settlement_id)
        return _pdf_response(settlement)
