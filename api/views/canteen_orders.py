"""Canteen pre-orders (guardians), the kitchen's day (staff), and counter sales (terminals)."""

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent, ledger_reference
from api.permissions import IsGuardian, IsGuardianOrStaff, IsTerminal
from api.schema import (
    IDEMPOTENCY_HEADER_OPTIONAL,
    IDEMPOTENCY_HEADER_REQUIRED,
    IDEMPOTENCY_PROBLEMS,
    IDEMPOTENCY_REQUIRED_PROBLEMS,
    problems,
)
from api.serializers.built_once import rendered, validated
from api.serializers.canteen import (
    CounterSaleInput,
    CounterSaleOutput,
    DayCloseOutput,
    DayPeriodQueryInput,
    DayQueryInput,
    OrderChangeInput,
    OrderOutput,
    OrderPlaceInput,
    PrepListOutput,
)
from api.views.canteen_menu import CanteenStaff, guardian_link, staff_school
from api.views.cards import DECLINE_CODES
from canteen import counter, labels, orders, periods, prep
from canteen.models import Order
from guardians import selectors

TAG = "Canteen"
ORDER_REFUSALS = ["ordering_closed", "school_closed", "too_far_ahead", "allergen_conflict", "item_banned", "item_unavailable", "canteen_not_configured"]
PLACE_REFUSALS = [*ORDER_REFUSALS, "period_unavailable", "student_left"]
ORDER_EXAMPLE = {
    "id": 301,
    "receipt_number": "C1-20261202-000301",
    "student_id": 7,
    "student_name": "Mia Nguyen",
    "service_date": "2026-12-02",
    "period_id": 2,
    "period": "Lunch",
    "status": "placed",
    "payment_state": "held",
    "total": 950,
    "late": False,
    "note": "",
    "lines": [{"menu_item_id": 12, "name": "Chicken wrap", "unit_price": 650, "quantity": 1, "line_total": 650, "allergens": ["gluten", "egg"]}],
    "allergen_alerts": [],
    "created_at": "2026-11-28T09:00:00Z",
    "updated_at": "2026-11-28T09:00:00Z",
    "cancelled_at": None,
    "collected_at": None,
}
DATE_PARAMETER = OpenApiParameter("date", str, required=True, description="Service day, YYYY-MM-DD.")
KITCHEN_PERIOD_PARAMETER = OpenApiParameter("period_id", int, required=False, description="Only this service period's orders; omitted: every period of the day.")


def _orders():
    return Order.objects.select_related("student", "hold", "period").prefetch_related("lines")


def _lines(validated):
    return [orders.LineRequest(item_id=line["item_id"], quantity=line["quantity"]) for line in validated]


def _visible_order(request, order_id: int) -> Order:
    """Guardians reach orders of children they are linked to; staff their school's."""
    visible = _orders().filter(Q(student__in=selectors.students_visible_to(request.user)))
    return get_object_or_404(visible, pk=order_id)


class StudentOrderListView(GenericAPIView):
    permission_classes = [IsGuardian]
    queryset = Order.objects.none()

    @extend_schema(
        operation_id="canteen_order_list",
        tags=[TAG],
        summary="A child's canteen orders",
        description="Newest first, every state, each with its receipt number.",
        responses={200: OrderOutput(many=True), **problems(404)},
        examples=[OpenApiExample("Orders", value=[ORDER_EXAMPLE], response_only=True)],
    )
    def get(self, request, student_id: int):
        link = guardian_link(request, student_id)
        page = self.paginate_queryset(_orders().filter(student=link.student).order_by("-id"))
        return self.get_paginated_response(OrderOutput(page, many=True).data)

    @extend_schema(
        operation_id="canteen_order_place",
        tags=[TAG],
        summary="Pre-order a meal for a day and service period",
        description="For one service period (`period_id`: recess, lunch, ...; omitted: the school's default period); one live "
        "order per child, period and day (`order_exists`). Paid from your wallet: the amount is held now and charged at the "
        "period's cut-off (school-local time, exclusive: 08:29:59.999 is in time for an 08:30 cut-off). Refused with a code "
        "when the day is closed, past the period's cut-off, too far ahead, when an item is not offered in that period, or "
        "when an item carries one of the child's declared allergens (`allergen_conflict`, naming items and allergens) or a ban.",
        request=OrderPlaceInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: OrderOutput,
            **problems(
                400,
                404,
                {402: ["insufficient_funds"], 403: ["permission_missing"], 409: ["order_exists", "out_of_stock"], 422: PLACE_REFUSALS},
                IDEMPOTENCY_REQUIRED_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample("Wrap and juice", value={"service_date": "2026-12-02", "period_id": 2, "items": [{"item_id": 12, "quantity": 1}, {"item_id": 15, "quantity": 1}]}, request_only=True),
            OpenApiExample("Placed", value=ORDER_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=True, atomic=True)
    def post(self, request, student_id: int):
        placing = validated(OrderPlaceInput, request.data)
        order = orders.order_place(
            link=guardian_link(request, student_id),
            service_date=placing["service_date"],
            period_id=placing["period_id"],
            lines=_lines(placing["items"]),
            note=placing["note"],
            reference=ledger_reference("canteen_order", request),
        )
        return Response(rendered(OrderOutput, order), status=status.HTTP_201_CREATED)  # it comes with its lines, hold, student and period


class OrderDetailView(APIView):
    permission_classes = [IsGuardianOrStaff]

    @extend_schema(
        operation_id="canteen_order_retrieve",
        tags=[TAG],
        summary="An order and its receipt",
        description="The order with its lines as bought (name, price and allergens at the time), its state and its payment state. Guardians see their children's orders, staff their school's.",
        responses={200: OrderOutput, **problems(404)},
        examples=[OpenApiExample("Order", value=ORDER_EXAMPLE, response_only=True)],
    )
    def get(self, request, order_id: int):
        return Response(OrderOutput(_visible_order(request, order_id)).data)

    @extend_schema(
        operation_id="canteen_order_change",
        tags=[TAG],
        summary="Change an order's items before its period's cut-off",
        description="Replaces the items and holds the new total on your wallet (the previous hold is released, whichever of the "
        "child's guardians placed the order; from now on the order is yours to pay). The same checks as placing apply, for the "
        "order's own period.",
        request=OrderChangeInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            200: OrderOutput,
            **problems(
                400,
                404,
                {402: ["insufficient_funds"], 403: ["permission_missing"], 409: ["order_state_invalid", "out_of_stock"], 422: ORDER_REFUSALS},
                IDEMPOTENCY_REQUIRED_PROBLEMS,
            ),
        },
        examples=[
            OpenApiExample("Two wraps", value={"items": [{"item_id": 12, "quantity": 2}]}, request_only=True),
            OpenApiExample("Changed", value=ORDER_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=True, atomic=True)
    def put(self, request, order_id: int):
        order = _visible_order(request, order_id)
        items = validated(OrderChangeInput, request.data)["items"]
        order = orders.order_change(
            link=guardian_link(request, order.student_id),
            order=order,
            lines=_lines(items),
            reference=ledger_reference("canteen_order", request),
        )
        return Response(rendered(OrderOutput, order))  # it comes with its lines, hold, student and period


class OrderCancelView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="canteen_order_cancel",
        tags=[TAG],
        summary="Cancel an order before the cut-off",
        description="The held amount is released in full. After the cut-off only school staff can refund.",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=None,
        responses={200: OrderOutput, **problems(404, {403: ["permission_missing"], 409: ["order_state_invalid"], 422: ["ordering_closed"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[OpenApiExample("Cancelled", value={**ORDER_EXAMPLE, "status": "cancelled", "payment_state": "released"}, response_only=True)],
    )
    @idempotent(required=False)
    def post(self, request, order_id: int):
        order = _visible_order(request, order_id)
        link = guardian_link(request, order.student_id)
        order = orders.order_cancel(order=order, by_user=request.user, reason="guardian", link=link)
        return Response(OrderOutput(_orders().get(pk=order.pk)).data)


class StaffOrderRefundView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_order_refund",
        tags=[TAG],
        summary="Refund an order (staff)",
        description="At any time, to the guardian's wallet: the hold is released, or the charge is reversed.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={200: OrderOutput, **problems(403, 404, IDEMPOTENCY_REQUIRED_PROBLEMS)},
        examples=[OpenApiExample("Refunded", value={**ORDER_EXAMPLE, "status": "refunded", "payment_state": "refunded"}, response_only=True)],
    )
    @idempotent(required=True)
    def post(self, request, order_id: int):
        order = get_object_or_404(_orders().filter(school=staff_school(request)), pk=order_id)
        order = orders.order_refund(order=order, staff_user=request.user, reference=ledger_reference("canteen_refund", request))
        return Response(OrderOutput(_orders().get(pk=order.pk)).data)


class StaffOrderCollectView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_order_collect",
        tags=[TAG],
        summary="Mark an order collected",
        description="Canteen staff hand the bag over, only on the order's service day in the school's time zone "
        "(`collection_not_today` otherwise, before or after). A not-collected order can still be marked collected later that day.",
        request=None,
        responses={200: OrderOutput, **problems(403, 404, {409: ["order_state_invalid"], 422: ["collection_not_today"]})},
        examples=[OpenApiExample("Collected", value={**ORDER_EXAMPLE, "status": "fulfilled", "payment_state": "charged"}, response_only=True)],
    )
    def post(self, request, order_id: int):
        order = get_object_or_404(_orders().filter(school=staff_school(request)), pk=order_id)
        order = orders.order_mark_collected(order=order, staff_user=request.user)
        return Response(OrderOutput(_orders().get(pk=order.pk)).data)


def _day(request):
    query = DayQueryInput(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["date"]


def _kitchen_prep(request) -> dict:
    """The prep list of the day asked for, of one period when `period_id` says."""
    query = DayPeriodQueryInput(data=request.query_params)
    query.is_valid(raise_exception=True)
    school = staff_school(request)
    period = periods.period_of_school(school, query.validated_data["period_id"])
    return prep.prep_list(school=school, service_date=query.validated_data["date"], period=period)


class PrepListView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_prep_list",
        tags=[TAG],
        summary="The kitchen's prep list for a day",
        description="Counts per period and item, per-class lists and bag labels (each naming its period) with each child's "
        "allergens as declared now; `period_id` narrows it to one service period. "
        "`alerts` lists first the orders with a line carrying an allergen declared after ordering: that line is not served.",
        parameters=[DATE_PARAMETER, KITCHEN_PERIOD_PARAMETER],
        responses={200: PrepListOutput, **problems(400, 403, {422: ["period_unavailable"]})},
        examples=[
            OpenApiExample(
                "Prep list",
                value={"school_id": 1, "service_date": "2026-12-02", "period_id": None, "period": None, "order_count": 1, "alerts": [], "items": [{"menu_item_id": 12, "name": "Chicken wrap", "quantity": 1, "period_id": 2, "period": "Lunch"}], "classes": [], "labels": []},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(PrepListOutput(_kitchen_prep(request)).data)


def _day_document(request, render, content_type: str, disposition: str) -> HttpResponse:
    """The day's prep list rendered as a file (CSV for the office, PDF labels for the printer)."""
    day_prep = _kitchen_prep(request)
    response = HttpResponse(render(day_prep), content_type=content_type)
    suffix = f"-period-{day_prep['period_id']}" if day_prep["period_id"] else ""
    response["Content-Disposition"] = disposition.format(day=f"{day_prep['service_date']}{suffix}")
    return response


class PrepListCsvView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_prep_list_csv",
        tags=[TAG],
        summary="The prep list as CSV",
        description="One row per order: class, child, items, allergens in capitals, the allergy alert (`DO NOT SERVE: ...`, "
        "empty when none), dietary needs, receipt number, state and service (the order's period).",
        parameters=[DATE_PARAMETER, KITCHEN_PERIOD_PARAMETER],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, examples=[OpenApiExample("CSV", value="roll_class,student,items,allergens\n4B,Mia Nguyen,1 x Chicken wrap,PEANUT\n")]), **problems(400, 403, {422: ["period_unavailable"]})},
    )
    def get(self, request):
        return _day_document(request, prep.prep_list_csv, "text/csv; charset=utf-8", 'attachment; filename="prep-list-{day}.csv"')


class LabelsPdfView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_labels_pdf",
        tags=[TAG],
        summary="Bag labels as a printable PDF",
        description="A4 sheets of 24 labels: day, service period (RECESS, LUNCH), class, school, child, every allergen in bold (never cut off: "
        "wrapped, shrunk to no less than 7 pt, or continued on labels marked CONTINUED), DO NOT SERVE alerts, items and receipt number. "
        "`period_id` prints one period's labels.",
        parameters=[DATE_PARAMETER, KITCHEN_PERIOD_PARAMETER],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, examples=[OpenApiExample("PDF", value="%PDF-1.4 ...")]), **problems(400, 403, {422: ["period_unavailable"]})},
    )
    def get(self, request):
        return _day_document(request, labels.labels_pdf, "application/pdf", 'inline; filename="labels-{day}.pdf"')


class DayCloseView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_day_close",
        tags=[TAG],
        summary="Close the day: the uncollected report",
        description="Every order still placed for the day is marked not collected and listed. Only on the day "
        "or after it (school-local date): `day_not_started` otherwise.",
        parameters=[DATE_PARAMETER],
        request=None,
        responses={200: DayCloseOutput, **problems(400, 403, {422: ["day_not_started"]})},
        examples=[OpenApiExample("Report", value={"service_date": "2026-12-02", "not_collected": [ORDER_EXAMPLE]}, response_only=True)],
    )
    def post(self, request):
        day = _day(request)
        uncollected = orders.day_close(school=staff_school(request), service_date=day)
        return Response(DayCloseOutput({"service_date": day, "not_collected": uncollected}).data)


class CounterSaleView(APIView):
    permission_classes = [IsTerminal]

    @extend_schema(
        operation_id="terminal_canteen_sale",
        tags=["Terminals"],
        summary="Sell canteen items over the counter by student card",
        description="The card charge with the child's food rules: an item with a declared allergen declines the sale "
        "(`allergen_conflict`), as does a banned item, besides the card's own declines. The sale is in the `canteen` "
        "category, so the merchant must be registered for it (`category_not_registered`).",
        request=CounterSaleInput,
        parameters=[IDEMPOTENCY_HEADER_REQUIRED],
        responses={
            201: CounterSaleOutput,
            **problems(400, {402: DECLINE_CODES, 422: ["allergen_conflict", "item_banned", "item_unavailable", "amount_out_of_range", "category_not_registered"]}, IDEMPOTENCY_REQUIRED_PROBLEMS),
        },
        examples=[
            OpenApiExample("Recess", value={"card_identifier": "04A1B2C3D4E5F6", "items": [{"item_id": 15, "quantity": 1}]}, request_only=True),
            OpenApiExample(
                "Sold",
                value={"charge_id": 913, "status": "approved", "amount": 300, "remaining_balance": 850, "lines": [], "student_first_name": "Mia", "student_last_initial": "N"},
                response_only=True,
            ),
        ],
    )
    # One commit: the sale only reads before its one-statement charge (wallet/card_charge.py).
    @idempotent(required=True, atomic=True)
    def post(self, request):
        sale = validated(CounterSaleInput, request.data)
        approved, priced = counter.counter_sale(
            terminal=request.auth_terminal,
            card_identifier=sale["card_identifier"],
            lines=_lines(sale["items"]),
            idempotency_key=request.headers["Idempotency-Key"],
        )
        student = approved.charge.student
        receipt = {
            "charge_id": approved.charge.pk,
            "status": approved.status,
            "amount": approved.charge.amount,
            "remaining_balance": approved.remaining_balance,
            "lines": [
                {"menu_item_id": line.menu_item.pk, "name": line.menu_item.name, "unit_price": line.menu_item.price, "quantity": line.quantity, "line_total": line.line_total, "allergens": line.menu_item.allergens}
                for line in priced
            ],
            "student_first_name": student.first_name,
            "student_last_initial": student.last_name[:1],
        }
        return Response(rendered(CounterSaleOutput, receipt), status=status.HTTP_201_CREATED)

