"""Balances and statements: a guardian's wallet, and a student's card (for their guardians and school finance)."""

import csv
from zoneinfo import ZoneInfo

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import KeysetPage
from api.permissions import IsGuardian, StaffWithRole
from api.schema import problems
from api.serializers.statements import (
    StatementEntryOutput,
    StatementQueryInput,
    StudentCardSummaryOutput,
    WalletBalanceOutput,
)
from core.money import format_dollars
from guardians.selectors import guardian_for_user
from wallet import accounts, selectors
from wallet.models import Entry

TAG_WALLET = "Wallet"
TAG_CARDS = "Cards"

WALLET_EXAMPLE = {"balance": 4250, "held": 0, "available": 4250, "currency": "AUD"}
ENTRY_EXAMPLES = [
    {
        "id": 1044,
        "created_at": "2026-11-28T00:45:00Z",
        "amount": -350,
        "balance_after": 1150,
        "kind": "card_charge",
        "memo": "Banana bread",
        "transaction_id": 812,
    },
    {
        "id": 1031,
        "created_at": "2026-11-27T08:10:00Z",
        "amount": 1500,
        "balance_after": 1500,
        "kind": "card_fund",
        "memo": "To Mia's card",
        "transaction_id": 805,
    },
]
# drf-spectacular wraps a list view's example in the paginated envelope itself: give one entry each.
STATEMENT_EXAMPLES = [
    OpenApiExample("A card charge", value=ENTRY_EXAMPLES[0], response_only=True),
    OpenApiExample("Money in", value=ENTRY_EXAMPLES[1], response_only=True),
]
CARD_SUMMARY_EXAMPLE = {
    "student_id": 7,
    "balance": 1150,
    "held": 0,
    "available": 1150,
    "currency": "AUD",
    "card": {
        "id": 4,
        "last4": "0042",
        "status": "active",
        "issued_at": "2026-02-02T22:00:00Z",
        "status_changed_at": "2026-02-02T22:00:00Z",
    },
    "controls": {"daily_cap": 500, "weekly_cap": 2000, "banned_categories": ["entertainment"], "low_balance_threshold": 300},
    "spent_today": 350,
    "spent_this_week": 900,
    "day_starts_at": "2026-11-27T13:00:00Z",
    "week_starts_at": "2026-11-23T13:00:00Z",
    "time_zone": "Australia/Sydney",
}

CSV_COLUMNS = [
    "entry_id",
    "created_at",
    "local_date",
    "kind",
    "memo",
    "amount_cents",
    "amount_dollars",
    "balance_after_cents",
    "balance_after_dollars",
    "currency",
    "transaction_id",
]
CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS)
    + "\r\n1044,2026-11-28T11:45:00+11:00,2026-11-28,card_charge,Banana bread,-350,-3.50,1150,11.50,AUD,812\r\n"
)
STATEMENT_PARAMETERS = [StatementQueryInput]
STATEMENT_DESCRIPTION = (
    "Entries newest first, cursor-paginated (`page_size` up to 200), each with the running balance after it. "
    "`from`/`to` are inclusive local days ({zone})."
)
CSV_DESCRIPTION = (
    "The whole statement (or the `from`/`to` days) as CSV, newest first, streamed: one header row, then one row per "
    "entry with amounts in cents and in dollars. Times are local ({zone})."
)


class GuardianOrCardReader(BasePermission):
    """Guardians (for their linked children), and school staff with the finance or admin role."""

    message = "Only guardians and school finance or admin staff can read card balances."
    staff = StaffWithRole(*selectors.CARD_READER_ROLES)()

    def has_permission(self, request, view):
        return IsGuardian().has_permission(request, view) or self.staff.has_permission(request, view)


def _card_student(request, student_id: int):
    student = selectors.student_with_card_access(request.user, student_id)
    if student is None:
        raise Http404
    return student


def _statement_query(request) -> dict:
    if "from" not in request.query_params and "to" not in request.query_params:
        return {"date_from": None, "date_to": None}  # the usual page: nothing to validate
    query = StatementQueryInput(data=request.query_params)
    query.is_valid(raise_exception=True)
    return {"date_from": query.validated_data.get("from"), "date_to": query.validated_data.get("to")}


class _StatementPageView(GenericAPIView):
    queryset = Entry.objects.none()  # for the schema generator; requests page with KeysetPage
    pagination_class = KeysetPage
    filter_backends = []  # `from`/`to` are validated by StatementQueryInput

    def statement_page(self, request, *, account, zone):
        query = _statement_query(request)
        page = self.paginator.page(
            request, lambda **position: selectors.statement_page(account=account, zone=zone, **position, **query)
        )
        return Response({**page, "results": StatementEntryOutput(page["results"], many=True).data})


class _StatementCsvView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever the Accept header says; errors stay problem+json.
        return super().perform_content_negotiation(request, force=True)

    def csv_response(self, entries, *, zone: ZoneInfo, currency: str, filename: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(_csv_lines(entries, zone=zone, currency=currency), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


def _csv_schema(*, operation_id: str, tag: str, summary: str, zone: str, not_found: bool):
    return extend_schema(
        operation_id=operation_id,
        tags=[tag],
        summary=summary,
        description=CSV_DESCRIPTION.format(zone=zone),
        parameters=STATEMENT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="CSV with a header row; columns: " + ", ".join(f"`{c}`" for c in CSV_COLUMNS) + ".",
                examples=[OpenApiExample("Statement CSV", value=CSV_EXAMPLE, media_type="text/csv", response_only=True)],
            ),
            **problems(400, 403, *([404] if not_found else [])),
        },
    )


# --- Guardian wallet --------------------------------------------------------


class WalletView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="wallet_retrieve",
        tags=[TAG_WALLET],
        summary="My wallet balance",
        description="The signed-in guardian's wallet: balance, what pending holds reserve, and what is available "
        "to spend or move to a child's card. Integer cents.",
        responses={200: WalletBalanceOutput, **problems(403)},
        examples=[OpenApiExample("Wallet", value=WALLET_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        balance = selectors.guardian_wallet_balance(guardian_for_user(request.user))
        return Response(WalletBalanceOutput(balance).data)


class WalletStatementView(_StatementPageView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="wallet_statement_list",
        tags=[TAG_WALLET],
        summary="My wallet statement",
        description=STATEMENT_DESCRIPTION.format(zone=selectors.WALLET_TIME_ZONE),
        parameters=STATEMENT_PARAMETERS,
        responses={200: StatementEntryOutput(many=True), **problems(400, 403)},
        examples=STATEMENT_EXAMPLES,
    )
    def get(self, request):
        guardian = guardian_for_user(request.user)
        return self.statement_page(request, account=accounts.guardian_wallet(guardian), zone=selectors.wallet_statement_zone(guardian))


class WalletStatementCsvView(_StatementCsvView):
    permission_classes = [IsGuardian]

    @_csv_schema(
        operation_id="wallet_statement_csv",
        tag=TAG_WALLET,
        summary="Download my wallet statement (CSV)",
        zone=selectors.WALLET_TIME_ZONE,
        not_found=False,
    )
    def get(self, request):
        guardian = guardian_for_user(request.user)
        wallet = accounts.guardian_wallet(guardian)
        zone = selectors.wallet_statement_zone(guardian)
        entries = selectors.statement_entries(account=wallet, zone=zone, **_statement_query(request))
        return self.csv_response(entries, zone=zone, currency=wallet.currency, filename="tuckbox-wallet-statement.csv")


# --- Student card -----------------------------------------------------------


class StudentCardView(APIView):
    permission_classes = [GuardianOrCardReader]

    @extend_schema(
        operation_id="student_card_retrieve",
        tags=[TAG_CARDS],
        summary="A child's card: balance, status, controls and spending",
        description="The card balance, the live card's status and last four digits, the guardians' spending "
        "controls, and the net spending (charges less refunds) in the school's local day and week, which is what "
        "the caps count. Guardians see their linked children; finance and admin staff their school's students. "
        "Anyone else's student is 404.",
        responses={200: StudentCardSummaryOutput, **problems(403, 404)},
        examples=[OpenApiExample("Card", value=CARD_SUMMARY_EXAMPLE, response_only=True)],
    )
    def get(self, request, student_id: int):
        summary = selectors.card_summary(_card_student(request, student_id))
        return Response(StudentCardSummaryOutput(summary).data)


class StudentCardStatementView(_StatementPageView):
    permission_classes = [GuardianOrCardReader]

    @extend_schema(
        operation_id="student_card_statement_list",
        tags=[TAG_CARDS],
        summary="A child's card statement",
        description=STATEMENT_DESCRIPTION.format(zone="the school's time zone")
        + " Guardians see their linked children; finance and admin staff their school's students.",
        parameters=STATEMENT_PARAMETERS,
        responses={200: StatementEntryOutput(many=True), **problems(400, 403, 404)},
        examples=STATEMENT_EXAMPLES,
    )
    def get(self, request, student_id: int):
        account = selectors.card_account_with_access(request.user, student_id)
        if account is None:
            account = accounts.student_card_account(_card_student(request, student_id))
        return self.statement_page(request, account=account, zone=selectors.student_zone(account.student))


class StudentCardStatementCsvView(_StatementCsvView):
    permission_classes = [GuardianOrCardReader]

    @_csv_schema(
        operation_id="student_card_statement_csv",
        tag=TAG_CARDS,
        summary="Download a child's card statement (CSV)",
        zone="the school's time zone",
        not_found=True,
    )
    def get(self, request, student_id: int):
        student = _card_student(request, student_id)
        account = accounts.student_card_account(student)
        zone = selectors.student_zone(student)
        entries = selectors.statement_entries(account=account, zone=zone, **_statement_query(request))
        return self.csv_response(
            entries, zone=zone, currency=account.currency, filename=f"tuckbox-card-statement-{student.pk}.csv"
        )


# --- CSV --------------------------------------------------------------------


class _LineBuffer:
    """csv.writer writes into this and gets the line back, so rows stream one at a time."""

    def write(self, line: str) -> str:
        return line


# A cell starting with one of these is a formula to a spreadsheet; memos come from merchants' terminals.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _csv_lines(entries, *, zone: ZoneInfo, currency: str):
    writer = csv.writer(_LineBuffer())
    yield writer.writerow(CSV_COLUMNS)
    for entry in selectors.entries_in_batches(entries):
        local = entry.created_at.astimezone(zone)
        yield writer.writerow(
            [
                entry.pk,
                local.isoformat(timespec="seconds"),
                local.date().isoformat(),
                _text_cell(entry.transaction.kind),
                _text_cell(entry.transaction.memo),
                entry.amount,
                format_dollars(entry.amount),
                entry.balance_after,
                format_dollars(entry.balance_after),
                currency,
                entry.transaction_id,
            ]
        )
