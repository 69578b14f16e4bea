"""Student cards: guardians fund and control them, staff issue them, terminals charge them."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent, ledger_reference
from api.permissions import IsGuardian, IsTerminal, StaffWithRole
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.built_once import rendered, validated
from api.serializers.cards import (
    CardChargeInput,
    CardChargeOutput,
    CardFundInput,
    CardIssueInput,
    CardOutput,
    CardRefundInput,
    CardRefundOutput,
    CardTransferOutput,
    MerchantBalanceOutput,
    MerchantChargeOutput,
    SpendingControlsInput,
    SpendingControlsOutput,
)
from guardians import selectors
from guardians.models import StaffRole
from wallet import accounts, cards
from wallet.card_transfer import card_transfer
from wallet.models import CardCharge, StudentCard

TAG_CARDS = "Cards"
TAG_TERMINAL = "Terminals"

DECLINE_CODES = [
    "insufficient_funds",
    "daily_cap_exceeded",
    "weekly_cap_exceeded",
    "card_frozen",
    "category_banned",
    "unknown_card",
]
# What a charge's input can be refused for, before any card is read.
CHARGE_INPUT_CODES = ["amount_out_of_range", "category_not_registered", "category_required"]
CARD_EXAMPLE = {
    "id": 4,
    "student_id": 7,
    "last4": "0042",
    "status": "frozen",
    "issued_at": "2026-02-02T22:00:00Z",
    "status_changed_at": "2026-11-28T03:00:00Z",
}
CHARGE_EXAMPLE = {
    "charge_id": 912,
    "status": "approved",
    "amount": 350,
    "refunded_amount": 0,
    "remaining_balance": 1150,
    "categories": ["canteen"],
    "description": "Banana bread",
    "created_at": "2026-11-28T00:45:00Z",
    "student": {"first_name": "Mia", "last_initial": "N", "year_level": 4},
}


def _money_link(request, student_id: int):
    """The caller's active link to the student, or 404 (not theirs, or no such student)."""
    link = selectors.active_link(guardian=selectors.guardian_for_user(request.user), student_id=student_id)
    if link is None:
        raise Http404
    return link


def _card_transfer_view(kind: str, to_card: bool, summary: str, request_example: dict, response_example: dict, conflicts: tuple = ()):
    """Funding and withdrawing are mirror images: one view shape, two services."""

    class CardTransferView(APIView):
        permission_classes = [IsGuardian]

        @extend_schema(
            operation_id=kind,
            tags=[TAG_CARDS],
            summary=summary,
            description="Needs the money permission on the link to the child. No fee.",
            request=CardFundInput,
            parameters=[IDEMPOTENCY_HEADER_REQUIRED],
            responses={
                201: CardTransferOutput,
                **problems(
                    400, 404, {402: ["insufficient_funds"], 403: ["permission_missing"], 422: ["amount_out_of_range"]},
                    {409: list(conflicts)} if conflicts else {}, IDEMPOTENCY_REQUIRED_PROBLEMS,
                ),
            },
            examples=[
                OpenApiExample("Request", value=request_example, request_only=True),
                OpenApiExample("Moved", value=response_example, response_only=True),
            ],
        )
        @idempotent(required=True, atomic=True)
        def post(self, request, student_id: int):
            amount = validated(CardFundInput, request.data)["amount"]
            link = _money_link(request, student_id)
            moved = card_transfer(link=link, amount=amount, reference=ledger_reference(kind, request), to_card=to_card)
            return Response(rendered(CardTransferOutput, moved), status=status.HTTP_201_CREATED)

    CardTransferView.__name__ = f"{kind.title().replace('_', '')}View"
    return CardTransferView


CardFundView = _card_transfer_view(
    "card_fund",
    True,
    "Move money from my wallet to a child's card",
    {"amount": 2000},
    {"transaction_id": 55, "amount": 2000, "wallet_balance": 3000, "card_balance": 2450},
    conflicts=("card_state_invalid",),  # the student has left the school: the card is closed
)
CardWithdrawView = _card_transfer_view(
    "card_withdraw",
    False,
    "Move money from a child's card back to my wallet",
    {"amount": 500},
    {"transaction_id": 56, "amount": 500, "wallet_balance": 3500, "card_balance": 1950},
)


class SpendingControlsView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="card_controls_update",
        tags=[TAG_CARDS],
        summary="Set a child's caps and bans",
        description="Daily and weekly caps count the school's local day and week (the week starts on the "
        "school's `week_starts_on`). Banned categories are declined at the counter. Send only what changes; "
        "null removes a cap. Every guardian with money permission sees and edits the same controls.",
        request=SpendingControlsInput,
        responses={200: SpendingControlsOutput, **problems(400, 404, {403: ["permission_missing"], 422: ["unknown_category"]})},
        examples=[
            OpenApiExample("$5 a week, no lollies", value={"weekly_cap": 500, "banned_categories": ["uniform_shop"]}, request_only=True),
            OpenApiExample(
                "Controls",
                value={"daily_cap": None, "weekly_cap": 500, "banned_categories": ["uniform_shop"], "low_balance_threshold": 300, "updated_at": "2026-11-28T03:00:00Z"},
                response_only=True,
            ),
        ],
    )
    def patch(self, request, student_id: int):
        data = SpendingControlsInput(data=request.data)
        data.is_valid(raise_exception=True)
        controls = cards.spending_controls_update(link=_money_link(request, student_id), **data.validated_data)
        return Response(SpendingControlsOutput(controls).data)


def _card_action_view(action: str, summary: str, description: str):
    class CardActionView(APIView):
        permission_classes = [IsGuardian]

        @extend_schema(
            operation_id=f"card_{action}",
            tags=[TAG_CARDS],
            summary=summary,
            description=description,
            request=None,
            responses={200: CardOutput, **problems(404, {403: ["permission_missing"], 409: ["card_state_invalid"]})},
            examples=[OpenApiExample("Card", value=CARD_EXAMPLE, response_only=True)],
        )
        def post(self, request, student_id: int):
            link = _money_link(request, student_id)
            card = StudentCard.objects.filter(student_id=student_id).order_by("-issued_at", "-id").first()
            if card is None:
                raise Http404
            card = cards.card_change_status(link=link, card=card, action=action)
            return Response(CardOutput(card).data)

    CardActionView.__name__ = f"Card{action.title().replace('_', '')}View"
    return CardActionView


CardFreezeView = _card_action_view("freeze", "Freeze a child's card", "Takes effect at once; the balance stays. Freezing a frozen card is harmless.")
CardUnfreezeView = _card_action_view("unfreeze", "Unfreeze a child's card", "Only a frozen card can be unfrozen; a lost card is replaced instead.")
CardReportLostView = _card_action_view(
    "report_lost", "Report a child's card lost", "The card stops working for good; the school issues a replacement that keeps the balance."
)


class CardIssueView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN, StaffRole.CANTEEN)]

    @extend_schema(
        operation_id="card_issue",
        tags=[TAG_CARDS],
        summary="Issue or replace a student's card",
        description="School staff (admin or canteen) register the card a student will carry. A previous live card "
        "is marked replaced; the balance belongs to the student and carries over.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=CardIssueInput,
        responses={201: CardOutput, **problems(400, 403, 404, {409: ["card_identifier_taken"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Issue", value={"identifier": "04A1B2C3D4E5F6"}, request_only=True),
            OpenApiExample("Card", value={**CARD_EXAMPLE, "status": "active"}, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request, student_id: int):
        data = CardIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        staff = selectors.staff_for_user(request.user)
        student = get_object_or_404(selectors.students_visible_to(request.user).filter(school_id=staff.school_id), pk=student_id)
        card = cards.card_issue(student=student, identifier=data.validated_data["identifier"], issued_by=request.user)
        return Response(CardOutput(card).data, status=status.HTTP_201_CREATED)


class TerminalChargeView(GenericAPIView):
    permission_classes = [IsTerminal]

    queryset = CardCharge.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return CardCharge.objects.filter(merchant_id=self.request.auth_terminal.merchant_id).select_related("card")

    @extend_schema(
        operation_id="terminal_charge_list",
        tags=[TAG_TERMINAL],
        summary="This merchant's card charges",
        description="Newest first, with what has been refunded of each.",
        responses={200: MerchantChargeOutput(many=True)},
        examples=[
            OpenApiExample(
                "Charges",
                value=[{"charge_id": 912, "terminal_id": 1, "amount": 350, "refunded_amount": 0, "categories": ["canteen"], "description": "Banana bread", "created_at": "2026-11-28T00:45:00Z", "card_last4": "0042"}],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MerchantChargeOutput(page, many=True).data)

    @extend_schema(
        operation_id="terminal_charge_create",
        tags=[TAG_TERMINAL],
        summary="Charge a student card",
        description="Approved: 201 with the remaining balance and what the cashier may see of the child. "
        "Declined: 402 problem+json whose `code` is the reason: " + ", ".join(f"`{c}`" for c in DECLINE_CODES) + ". "
        "The charge's categories are the ones the merchant is registered for; `categories` may only narrow them, "
        "and a merchant registered for several must name which (422 `category_not_registered`, `category_required`). "
        "A card whose school has not enabled this merchant answers exactly as an unknown card does. "
        "Caps count the school's local day and week. The Idempotency-Key makes a retry after a timeout safe.",
        request=CardChargeInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={201: CardChargeOutput, **problems(400, {402: DECLINE_CODES, 422: CHARGE_INPUT_CODES}, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[
            OpenApiExample(
                "Recess snack", value={"card_identifier": "04A1B2C3D4E5F6", "amount": 350, "categories": ["canteen"], "description": "Banana bread"}, request_only=True
            ),
            OpenApiExample("Approved", value=CHARGE_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=True, atomic=True)
    def post(self, request):
        charge = validated(CardChargeInput, request.data)
        approved = cards.card_charge(terminal=request.auth_terminal, idempotency_key=request.headers["Idempotency-Key"], **charge)
        return Response(rendered(CardChargeOutput, approved), status=status.HTTP_201_CREATED)


class TerminalRefundView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_charge_refund",
        tags=[TAG_TERMINAL],
        summary="Refund a charge",
        description="Full or partial, within the refund window, by any terminal of the merchant that made the "
        "charge. Booked as a reversing ledger transaction; the money returns to the card.",
        request=CardRefundInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: CardRefundOutput,
            **problems(400, {404: ["charge_not_found"], 422: ["refund_window_closed", "refund_exceeds_charge", "amount_out_of_range"]}, IDEMPOTENCY_REQUIRED_PROBLEMS),
        },
        examples=[
            OpenApiExample("Partial refund", value={"amount": 150}, request_only=True),
            OpenApiExample(
                "Refunded",
                value={"refund_id": 3, "charge_id": 912, "amount": 150, "charge_refunded_amount": 150, "created_at": "2026-11-28T01:00:00Z"},
                response_only=True,
            ),
        ],
    )
    @idempotent(required=True)
    def post(self, request, charge_id: int):
        data = CardRefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = cards.card_charge_refund(
            terminal=request.auth_terminal,
            charge_id=charge_id,
            amount=data.validated_data.get("amount"),
            idempotency_key=request.headers["Idempotency-Key"],
        )
        return Response(CardRefundOutput(refund).data, status=status.HTTP_201_CREATED)


class TerminalBalanceView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_balance_retrieve",
        tags=[TAG_TERMINAL],
        summary="What the merchant will be paid",
        description="The merchant's payable balance: charges and voucher redemptions not yet settled, less refunds.",
        responses={200: MerchantBalanceOutput},
        examples=[
            OpenApiExample(
                "Balance", value={"merchant_id": 1, "merchant_name": "Harbourside Canteen", "payable_balance": 48250, "currency": "AUD"}, response_only=True
            )
        ],
    )
    def get(self, request):
        merchant = request.auth_terminal.merchant
        payable = accounts.merchant_payable(merchant)
        return Response(
            MerchantBalanceOutput(
                {"merchant_id": merchant.pk, "merchant_name": merchant.name, "payable_balance": payable.balance, "currency": payable.currency}
            ).data
        )
