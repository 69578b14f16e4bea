"""Merchant terminals and vouchers: preview, redeem, void; applying to accept a program; settlements."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent, ledger_reference
from api.permissions import IsTerminal
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.built_once import rendered, validated
from api.serializers.vouchers import (
    VoucherCredentialInput,
    VoucherMerchantBalanceOutput,
    VoucherPreviewOutput,
    VoucherProviderApplicationInput,
    VoucherProviderApprovalOutput,
    VoucherRedeemInput,
    VoucherRedemptionOutput,
    VoucherSettlementOutput,
)
from api.views.vouchers import (
    APPROVAL_CODES,
    LOOKUP_CODES,
    PROGRAM_BRIEF,
    REDEMPTION_EXAMPLE,
    RULE_CODES,
    STATE_CODES,
    TAG_PROVIDERS,
    TAG_TERMINAL,
    LookupThrottledMixin,
    guarded_lookup,
)
from vouchers import numbers, selectors, services
from vouchers.models import Redemption, Settlement
from vouchers.redemption import Credential, redemption_void, voucher_preview, voucher_redeem
from vouchers.settlement import STATEMENT_COLUMNS

PREVIEW_EXAMPLE = {
    "voucher_id": 41,
    "number": "7KQ2M-9XD4R-TA0B5",
    "program": PROGRAM_BRIEF,
    "state": "issued",
    "face_value": 10000,
    "remaining_value": 10000,
    "expires_on": "2026-12-31",
    "beneficiary_first_name": "Mia",
    "use_rule": "single_use",
    "stackable": False,
    "can_redeem": True,
    "refusal_code": None,
    "refusal_detail": None,
    "categories": ["sport"],
}
SETTLEMENT_EXAMPLE = {
    "id": 12,
    "program_id": 1,
    "business_date": "2026-04-21",
    "cutoff_at": "2026-04-21T14:00:00Z",
    "redeemed_amount": 42500,
    "voided_amount": 0,
    "amount": 42500,
    "currency": "AUD",
    "status": "paid",
    "transfer_id": "tr_1P2x3Y4z",
    "created_at": "2026-04-21T15:45:02Z",
    "paid_at": "2026-04-21T15:45:03Z",
}
APPROVAL_EXAMPLE = {
    "id": 4,
    "program_id": 1,
    "program_name": "Active Kids",
    "merchant_id": 9,
    "merchant_name": "Harbourside Swim Club",
    "categories": ["sport"],
    "status": "pending",
    "abn": "51824753556",
    "insurance_expires_on": "2027-06-30",
    "wwcc_expires_on": "2028-01-31",
    "expires_on": None,
    "note": "Learn-to-swim, terms 1-4",
    "reason": "",
    "applied_at": "2026-02-10T01:00:00Z",
    "decided_at": None,
}
CREDENTIAL_EXAMPLES = [
    OpenApiExample("Scanned from the app", value={"qr": "TBV1.AEBAEZDFO4WTKMZVGM3DEMRQGAYD....48213377"}, request_only=True),
    OpenApiExample("Typed number", value={"number": "7KQ2M-9XD4R-TA0B5", "date_of_birth": "2016-04-02"}, request_only=True),
]


def _credential(data: dict) -> Credential:
    return Credential(qr=data.get("qr"), number=data.get("number"), date_of_birth=data.get("date_of_birth"))


def _redemption(merchant, redemption_id: int) -> Redemption:
    return selectors.redemptions_of_merchant(merchant).get(pk=redemption_id)


class VoucherPreviewView(LookupThrottledMixin, APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_preview",
        tags=[TAG_TERMINAL],
        summary="Look a voucher up before taking it",
        description="Scan the app's code (or a printed code with the date of birth), or type the number with the "
        "date of birth. Answers the program, the value left, the beneficiary's first name, and whether this "
        "merchant may redeem it now; if not, `refusal_code` says why (the code a redemption would answer). "
        "Nothing is written. Failed look-ups (unknown number, forged or stale code, wrong date of birth) count "
        "against the terminal: after 10 in a minute, every look-up is 429 `voucher_lookup_throttled` for a minute.",
        request=VoucherCredentialInput,
        responses={200: VoucherPreviewOutput, **problems(400, LOOKUP_CODES)},
        examples=[
            *CREDENTIAL_EXAMPLES,
            OpenApiExample("Can redeem", value=PREVIEW_EXAMPLE, response_only=True),
            OpenApiExample(
                "Not here",
                value={**PREVIEW_EXAMPLE, "can_redeem": False, "refusal_code": "merchant_not_approved", "refusal_detail": "This merchant is not approved to accept this program.", "categories": []},
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        data = VoucherCredentialInput(data=request.data)
        data.is_valid(raise_exception=True)
        preview = guarded_lookup(
            request, lambda: voucher_preview(terminal=request.auth_terminal, credential=_credential(data.validated_data))
        )
        voucher = preview.voucher
        return Response(
            VoucherPreviewOutput(
                {
                    "voucher_id": voucher.pk,
                    "number": numbers.formatted(voucher.number),
                    "program": voucher.program,
                    "state": preview.state,
                    "face_value": voucher.face_value,
                    "remaining_value": voucher.remaining_value,
                    "expires_on": voucher.expires_on,
                    "beneficiary_first_name": voucher.beneficiary_first_name,
                    "use_rule": voucher.program.use_rule,
                    "stackable": voucher.program.stackable,
                    "can_redeem": preview.can_redeem,
                    "refusal_code": preview.refusal.code if preview.refusal else None,
                    "refusal_detail": preview.refusal.message if preview.refusal else None,
                    "categories": preview.categories,
                }
            ).data
        )


class VoucherRedemptionListView(LookupThrottledMixin, GenericAPIView):
    permission_classes = [IsTerminal]
    queryset = Redemption.objects.none()  # for the schema generator
    filter_backends = []

    @extend_schema(
        operation_id="terminal_voucher_redemption_list",
        tags=[TAG_TERMINAL],
        summary="This merchant's voucher redemptions",
        description="Newest first, from every terminal of the merchant, with voids and the settlement that paid each.",
        responses={200: VoucherRedemptionOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Redemption", value=REDEMPTION_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.redemptions_of_merchant(request.auth_terminal.merchant))
        return self.get_paginated_response(VoucherRedemptionOutput(page, many=True).data)

    @extend_schema(
        operation_id="terminal_voucher_redeem",
        tags=[TAG_TERMINAL],
        summary="Redeem a voucher",
        description="Takes `amount` cents off one voucher, or off several combined where the program allows "
        "(soonest expiry first). Every rule is checked under the voucher's lock: the voucher's state and expiry "
        "(in its time zone), this merchant's approval and category, the weekday, one provider, once per term, and "
        "the value left. A single-use voucher forfeits what the payment leaves. The money moves from the program's "
        "funding to this merchant's payable balance, paid out at the next settlement. Exactly once: concurrent "
        "redemptions of a voucher give one success and 409 `voucher_already_redeemed`. The Idempotency-Key makes a "
        "retry after a timeout safe.",
        request=VoucherRedeemInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: VoucherRedemptionOutput,
            **problems(
                400,
                {
                    403: APPROVAL_CODES,
                    404: LOOKUP_CODES[404],
                    409: [*STATE_CODES, "lock_timeout"],
                    422: [*LOOKUP_CODES[422], *RULE_CODES],
                    429: LOOKUP_CODES[429],
                },
                IDEMPOTENCY_REQUIRED_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample("Swimming lessons", value={"vouchers": [{"qr": "TBV1.AEBAEZDFO4WTKMZVGM3DEMRQGAYD....48213377"}], "amount": 8500, "description": "Term 2 swimming"}, request_only=True),
            OpenApiExample("Redeemed", value=REDEMPTION_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=True, atomic=True)
    def post(self, request):
        values = validated(VoucherRedeemInput, request.data)
        redeemed = guarded_lookup(
            request,
            lambda: voucher_redeem(
                terminal=request.auth_terminal,
                credentials=[_credential(item) for item in values["vouchers"]],
                amount=values["amount"],
                category=values.get("category"),
                description=values["description"],
                reference=ledger_reference("voucher_redemption", request),
            ),
        )
        # A new redemption comes back with its lines and vouchers; a replay is read again.
        redemption = _redemption(request.auth_terminal.merchant, redeemed.redemption.pk) if redeemed.replayed else redeemed.redemption
        return Response(rendered(VoucherRedemptionOutput, redemption), status=status.HTTP_201_CREATED)


class VoucherRedemptionVoidView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_redemption_void",
        tags=[TAG_TERMINAL],
        summary="Void a redemption",
        description="Any terminal of the merchant that took it, within 24 hours (VOUCHER_VOID_WINDOW_HOURS). A "
        "reversing ledger transaction takes the money back from the merchant's payable balance, and the vouchers "
        "are restored as they were, forfeits included. Another merchant's redemption is 404.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            200: VoucherRedemptionOutput,
            **problems(
                {404: ["redemption_not_found"], 409: ["redemption_already_voided"], 422: ["void_window_closed"]},
                IDEMPOTENCY_REQUIRED_PROBLEMS,
            ),
        },
        examples=[OpenApiExample("Voided", value={**REDEMPTION_EXAMPLE, "voided_at": "2026-04-21T06:20:00Z", "lines": [{**REDEMPTION_EXAMPLE["lines"][0], "remaining_value": 10000}]}, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, redemption_id: int):
        redemption = redemption_void(terminal=request.auth_terminal, redemption_id=redemption_id)
        return Response(VoucherRedemptionOutput(_redemption(request.auth_terminal.merchant, redemption.pk)).data)


class VoucherProviderApplicationView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_provider_application_list",
        tags=[TAG_PROVIDERS],
        summary="This merchant's program applications and approvals",
        description="With their status and the expiry of the approval and its evidence.",
        responses={200: VoucherProviderApprovalOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Applications", value=[{**APPROVAL_EXAMPLE, "status": "approved", "decided_at": "2026-02-12T01:00:00Z"}], response_only=True)],
    )
    def get(self, request):
        return Response(VoucherProviderApprovalOutput(selectors.approvals_of_merchant(request.auth_terminal.merchant), many=True).data)

    @extend_schema(
        operation_id="terminal_voucher_provider_apply",
        tags=[TAG_PROVIDERS],
        summary="Apply to accept a program",
        description="A terminal applies for its merchant, for categories both the program and the merchant cover, "
        "with the evidence facts (ABN, insurance expiry, working-with-children check expiry). A program "
        "administrator checks them and approves.",
        request=VoucherProviderApplicationInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={
            201: VoucherProviderApprovalOutput,
            **problems(400, 404, {409: ["provider_application_exists"], 422: ["category_not_offered", "invalid_abn"]}, IDEMPOTENCY_PROBLEMS),
        },
        examples=[
            OpenApiExample(
                "Apply",
                value={"program_id": 1, "categories": ["sport"], "abn": "51824753556", "insurance_expires_on": "2027-06-30", "wwcc_expires_on": "2028-01-31", "note": "Learn-to-swim, terms 1-4"},
                request_only=True,
            ),
            OpenApiExample("Pending", value=APPROVAL_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = VoucherProviderApplicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        program = get_object_or_404(selectors.programs_visible_to(request.user), pk=values.pop("program_id"))
        approval = services.provider_apply(terminal=request.auth_terminal, program=program, **values)
        return Response(VoucherProviderApprovalOutput(approval).data, status=status.HTTP_201_CREATED)


class VoucherSettlementListView(GenericAPIView):
    permission_classes = [IsTerminal]
    queryset = Settlement.objects.none()  # for the schema generator
    filter_backends = []

    @extend_schema(
        operation_id="terminal_voucher_settlement_list",
        tags=[TAG_TERMINAL],
        summary="This merchant's voucher settlements",
        description="One a day at most for each program: its redemptions up to the end of the day (the program's "
        "time zone), less voids of redemptions already paid, transferred to the merchant's Stripe account. Each "
        "has a PDF remittance advice (`remittance.pdf`).",
        responses={200: VoucherSettlementOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Settlement", value=SETTLEMENT_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.settlements_of_merchant(request.auth_terminal.merchant))
        return self.get_paginated_response(VoucherSettlementOutput(page, many=True).data)


class VoucherSettlementDetailView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_settlement_retrieve",
        tags=[TAG_TERMINAL],
        summary="One settlement",
        description="What was paid for which day: redeemed, less voids of redemptions paid before, and the Stripe "
        "transfer. Another merchant's settlement is 404.",
        responses={200: VoucherSettlementOutput, **problems(403, 404)},
        examples=[OpenApiExample("Settlement", value=SETTLEMENT_EXAMPLE, response_only=True)],
    )
    def get(self, request, settlement_id: int):
        settlement = get_object_or_404(selectors.settlements_of_merchant(request.auth_terminal.merchant), pk=settlement_id)
        return Response(VoucherSettlementOutput(settlement).data)


class VoucherSettlementStatementView(APIView):
    permission_classes = [IsTerminal]

    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever the Accept header says; errors stay problem+json.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="terminal_voucher_settlement_statement_csv",
        tags=[TAG_TERMINAL],
        summary="A settlement's statement (CSV)",
        description="One line per redemption paid, redeemed-and-voided before payment (0), or voided after an "
        "earlier payment (negative); `amount_cents` sums to the payout. Times are the program's zone's; voucher numbers are "
        "masked to their last five characters. The statement is fixed when the settlement is made.",
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="Columns: " + ", ".join(f"`{column}`" for column in STATEMENT_COLUMNS) + ".",
                examples=[
                    OpenApiExample(
                        "Statement",
                        value=",".join(STATEMENT_COLUMNS)
                        + "\n12,2026-04-21,redemption,88,2026-04-21T16:10:00+10:00,,Active Kids,sport,*****-*****-TA0B5,8500,85.00,AUD\n",
                        media_type="text/csv",
                        response_only=True,
                    )
                ],
            ),
            **problems(403, 404),
        },
    )
    def get(self, request, settlement_id: int):
        settlement = get_object_or_404(selectors.settlements_of_merchant(request.auth_terminal.merchant), pk=settlement_id)
        response = HttpResponse(settlement.statement_csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="tuckbox-voucher-settlement-{settlement.pk}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class VoucherMerchantBalanceView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_voucher_balance_retrieve",
        tags=[TAG_TERMINAL],
        summary="Voucher money pending and paid",
        description="Pending: redeemed and not yet settled. In payout: settled, transfer not yet confirmed. Paid: "
        "transferred. Integer cents.",
        responses={200: VoucherMerchantBalanceOutput, **problems(403)},
        examples=[OpenApiExample("Balance", value={"pending_amount": 8500, "in_payout_amount": 0, "paid_amount": 42500, "currency": "AUD"}, response_only=True)],
    )
    def get(self, request):
        return Response(VoucherMerchantBalanceOutput(selectors.merchant_voucher_balance(request.auth_terminal.merchant)).data)
