"""Canteen menus, settings, the child's food profile, and the menu a child sees for a day."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import IsGuardian, StaffWithRole
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.canteen import (
    CanteenSettingsInput,
    CanteenSettingsOutput,
    DayPeriodQueryInput,
    FoodProfileInput,
    FoodProfileOutput,
    MenuItemInput,
    MenuItemOutput,
    MenuItemUpdateInput,
    ReminderPreferenceInput,
    ReminderPreferenceOutput,
    ServicePeriodInput,
    ServicePeriodOutput,
    ServicePeriodUpdateInput,
    StudentMenuOutput,
)
from canteen import calendar, configuration, menus, periods
from canteen.models import MenuItem, ServicePeriod
from guardians import selectors
from guardians.errors import PermissionMissing
from guardians.models import StaffRole

TAG = "Canteen"
CanteenStaff = StaffWithRole(StaffRole.CANTEEN, StaffRole.ADMIN)
MENU_ITEM_EXAMPLE = {
    "id": 12,
    "name": "Chicken wrap",
    "description": "Grilled chicken, lettuce, mayo",
    "price": 650,
    "category": "lunch",
    "allergens": ["gluten", "egg"],
    "dietary_tags": ["halal"],
    "weekdays": [],
    "year_levels": [],
    "daily_stock_limit": 40,
    "late_menu": False,
    "is_active": True,
    "period_ids": [2],
}
PERIOD_EXAMPLE = {"id": 2, "name": "Lunch", "cutoff": "09:30:00", "late_cutoff": None, "is_default": True, "is_active": True}
PERIOD_ID_PARAMETER = OpenApiParameter("period_id", int, required=False, description="A service period of the school; omitted: the default period.")
TIME_PROBLEMS = {400: ["nonexistent_local_time"], 422: ["period_invalid"]}
PROFILE_EXAMPLE = {
    "allergens": ["peanut", "sesame"],
    "dietary_needs": ["vegetarian"],
    "banned_item_ids": [],
    "banned_categories": ["dessert"],
    "notes": "Carries an EpiPen",
    "updated_at": "2026-11-28T03:00:00Z",
}


def staff_school(request):
    return selectors.staff_for_user(request.user).school


class MenuItemListView(GenericAPIView):
    permission_classes = [CanteenStaff]
    queryset = MenuItem.objects.none()

    def get_queryset(self):
        return menus.with_period_ids(MenuItem.objects.filter(school=staff_school(self.request))).order_by("-id")

    @extend_schema(
        operation_id="menu_item_list",
        tags=[TAG],
        summary="List the school's menu items",
        description="Every item of the staff member's school, newest first, active or not.",
        responses={200: MenuItemOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Menu", value=[MENU_ITEM_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MenuItemOutput(page, many=True).data)

    @extend_schema(
        operation_id="menu_item_create",
        tags=[TAG],
        summary="Add a menu item",
        description="Canteen staff and admins. Allergens use the FSANZ list; weekdays and year levels empty mean all. "
        "`period_ids` names the service periods the item is offered in (omitted: the default period).",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=MenuItemInput,
        responses={201: MenuItemOutput, **problems(400, 403, {422: ["period_unavailable"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Chicken wrap", value={k: v for k, v in MENU_ITEM_EXAMPLE.items() if k != "id"}, request_only=True),
            OpenApiExample("Created", value=MENU_ITEM_EXAMPLE, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = MenuItemInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = menus.menu_item_create(school=staff_school(request), **data.validated_data)
        return Response(MenuItemOutput(item).data, status=status.HTTP_201_CREATED)


class MenuItemDetailView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="menu_item_update",
        tags=[TAG],
        summary="Change a menu item",
        description="Send only what changes. Orders already placed keep the name, price and allergens they were placed with; "
        "an allergen added here that a child with an open order of the item is declared allergic to flags that order "
        "(`allergen_alerts`, DO NOT SERVE on the prep list and label) and notifies the guardians and kitchen.",
        request=MenuItemUpdateInput,
        responses={200: MenuItemOutput, **problems(400, 403, 404, {422: ["period_unavailable"]})},
        examples=[
            OpenApiExample("New price", value={"price": 700}, request_only=True),
            OpenApiExample("Updated", value={**MENU_ITEM_EXAMPLE, "price": 700}, response_only=True),
        ],
    )
    def patch(self, request, item_id: int):
        item = get_object_or_404(MenuItem.objects.filter(school=staff_school(request)), pk=item_id)
        data = MenuItemUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = menus.menu_item_update(item=item, **data.validated_data)
        return Response(MenuItemOutput(item).data)


class CanteenSettingsView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN, StaffRole.CANTEEN)]

    @extend_schema(
        operation_id="canteen_settings_retrieve",
        tags=[TAG],
        summary="The canteen's ordering rules",
        description="The default service period's cut-off (school-local wall-clock time) and late window, how far ahead orders may be placed, "
        "the reminder lead time and the service weekdays. Other periods' cut-offs: `/canteen/periods`.",
        responses={200: CanteenSettingsOutput, **problems(403, {422: ["canteen_not_configured"]})},
        examples=[
            OpenApiExample(
                "Settings",
                value={"canteen_cutoff": "08:30:00", "late_cutoff": None, "max_weeks_ahead": 4, "reminder_minutes_before": 60, "service_weekdays": [0, 1, 2, 3, 4], "time_zone": "Australia/Sydney"},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return Response(CanteenSettingsOutput(configuration.settings_payload(staff_school(request))).data)

    @extend_schema(
        operation_id="canteen_settings_update",
        tags=[TAG],
        summary="Change the cut-off and ordering rules",
        description="The cut-off is a school-local wall-clock time (07:45 to 10:00 is typical): the default service period's. "
        "A time the clocks skip on a daylight-saving day is refused (`nonexistent_local_time`); the late window must close after the cut-off (`period_invalid`). Only admins may change it.",
        request=CanteenSettingsInput,
        responses={200: CanteenSettingsOutput, **problems(400, 403, {400: ["nonexistent_local_time"], 422: ["canteen_not_configured", "period_invalid"]})},
        examples=[
            OpenApiExample("Earlier cut-off", value={"canteen_cutoff": "08:15"}, request_only=True),
            OpenApiExample(
                "Settings",
                value={"canteen_cutoff": "08:15:00", "late_cutoff": None, "max_weeks_ahead": 4, "reminder_minutes_before": 60, "service_weekdays": [0, 1, 2, 3, 4], "time_zone": "Australia/Sydney"},
                response_only=True,
            ),
        ],
    )
    def patch(self, request):
        if not selectors.staff_for_user(request.user).has_role(StaffRole.ADMIN):
            raise PermissionMissing("Only a school admin can change the canteen's rules.")
        data = CanteenSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        configuration.settings_update(school=staff_school(request), **data.validated_data)
        return Response(CanteenSettingsOutput(configuration.settings_payload(staff_school(request))).data)


class ServicePeriodListView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_period_list",
        tags=[TAG],
        summary="The school's service periods",
        description="Recess, lunch and any others, in the day's order (by cut-off), the default period included.",
        responses={200: ServicePeriodOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Periods", value=[{**PERIOD_EXAMPLE, "id": 3, "name": "Recess", "cutoff": "08:30:00", "is_default": False}, PERIOD_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        return Response(ServicePeriodOutput(periods.periods_of(staff_school(request)), many=True).data)

    @extend_schema(
        operation_id="canteen_period_create",
        tags=[TAG],
        summary="Add a service period",
        description="Admins only. Its own cut-off (school-local wall-clock time), menu (menu items' `period_ids`) and kitchen run. "
        "Names are unique per school (`period_name_taken`).",
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        request=ServicePeriodInput,
        responses={201: ServicePeriodOutput, **problems(400, 403, {409: ["period_name_taken"]}, TIME_PROBLEMS, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Recess", value={"name": "Recess", "cutoff": "08:30"}, request_only=True),
            OpenApiExample("Created", value={**PERIOD_EXAMPLE, "id": 3, "name": "Recess", "cutoff": "08:30:00", "is_default": False}, response_only=True),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        _require_admin(request)
        data = ServicePeriodInput(data=request.data)
        data.is_valid(raise_exception=True)
        period = periods.period_create(school=staff_school(request), **data.validated_data)
        return Response(ServicePeriodOutput(period).data, status=status.HTTP_201_CREATED)


class ServicePeriodDetailView(APIView):
    permission_classes = [CanteenStaff]

    @extend_schema(
        operation_id="canteen_period_update",
        tags=[TAG],
        summary="Change a service period",
        description="Admins only; send what changes. A new cut-off applies to days not yet cut off; placed orders keep their period. "
        "The default period cannot be deactivated (`default_period_required`); its times are also the settings' `canteen_cutoff` and `late_cutoff`.",
        request=ServicePeriodUpdateInput,
        responses={
            200: ServicePeriodOutput,
            **problems(400, 403, 404, {409: ["period_name_taken"], 422: ["default_period_required"]}, TIME_PROBLEMS),
        },
        examples=[
            OpenApiExample("Later cut-off", value={"cutoff": "09:45"}, request_only=True),
            OpenApiExample("Updated", value={**PERIOD_EXAMPLE, "cutoff": "09:45:00"}, response_only=True),
        ],
    )
    def patch(self, request, period_id: int):
        period = get_object_or_404(ServicePeriod.objects.filter(school=staff_school(request)), pk=period_id)
        _require_admin(request)  # after the look-up: another school's period is not found, whoever asks
        data = ServicePeriodUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ServicePeriodOutput(periods.period_update(period=period, **data.validated_data)).data)


def _require_admin(request) -> None:
    if not selectors.staff_for_user(request.user).has_role(StaffRole.ADMIN):
        raise PermissionMissing("Only a school admin can change the canteen's service periods.")


def guardian_link(request, student_id: int):
    link = selectors.active_link(guardian=selectors.guardian_for_user(request.user), student_id=student_id)
    if link is None:
        raise Http404
    return link


class FoodProfileView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="food_profile_retrieve",
        tags=[TAG],
        summary="A child's allergens, diet and bans",
        description="One profile per child, shared by all of the child's guardians and enforced on every order and counter sale.",
        responses={200: FoodProfileOutput, **problems(404)},
        examples=[OpenApiExample("Profile", value=PROFILE_EXAMPLE, response_only=True)],
    )
    def get(self, request, student_id: int):
        link = guardian_link(request, student_id)
        return Response(FoodProfileOutput(menus.food_profile_for(link.student)).data)

    @extend_schema(
        operation_id="food_profile_update",
        tags=[TAG],
        summary="Declare a child's allergens, diet and bans",
        description="Needs the consent permission on the link to the child. Orders containing a declared allergen are refused, "
        "and the allergens are printed in bold on the bag label. The child's open orders are re-checked at once: a line "
        "with a newly declared allergen is flagged in the order's `allergen_alerts`, on the prep list and label (not served), "
        "and the guardians and kitchen are notified; removing the allergy clears the flag.",
        request=FoodProfileInput,
        responses={200: FoodProfileOutput, **problems(400, 404, {403: ["permission_missing"]})},
        examples=[
            OpenApiExample("Peanut and sesame", value={"allergens": ["peanut", "sesame"]}, request_only=True),
            OpenApiExample("Profile", value=PROFILE_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request, student_id: int):
        link = guardian_link(request, student_id)
        if not link.can_give_consent:
            raise PermissionMissing("Declaring allergies needs the consent permission on your link to this child.")
        data = FoodProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        profile = menus.food_profile_update(student=link.student, updated_by=request.user, **data.validated_data)
        return Response(FoodProfileOutput(profile).data)


class StudentMenuView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="student_menu_retrieve",
        tags=[TAG],
        summary="What a child can order on a day",
        description="Items offered to the child's year level on that day in a service period (the default one unless `period_id` "
        "says), each flagged with the child's allergen conflicts and bans, with the period's cut-off.",
        parameters=[OpenApiParameter("date", str, required=True, description="Service day, YYYY-MM-DD."), PERIOD_ID_PARAMETER],
        responses={200: StudentMenuOutput, **problems(400, 404, {422: ["canteen_not_configured", "period_unavailable"]})},
        examples=[
            OpenApiExample(
                "Menu",
                value={
                    "service_date": "2026-12-02",
                    "period_id": 2,
                    "period": "Lunch",
                    "cutoff_at": "2026-12-01T22:30:00Z",
                    "ordering_open": True,
                    "items": [{**MENU_ITEM_EXAMPLE, "allergen_conflicts": ["egg"], "banned": False}],
                    "periods": [{"id": 1, "name": "Recess"}, {"id": 2, "name": "Lunch"}],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, student_id: int):
        query = DayPeriodQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["date"]
        link = guardian_link(request, student_id)
        school = link.student.school
        period = periods.period_for_order(school, query.validated_data["period_id"])
        ordering_open = calendar.ordering_open(school, configuration.settings_for(school), day, period)
        items = [
            {**MenuItemOutput(item).data, "allergen_conflicts": conflicts, "banned": banned}
            for item, conflicts, banned in menus.menu_for_student(student=link.student, day=day, period=period)
        ]
        payload = {
            "service_date": day,
            "period_id": period.pk,
            "period": period.name,
            "cutoff_at": calendar.cutoff_instant(school, day, period),
            "ordering_open": ordering_open,
            "items": items,
            "periods": [choice for choice in periods.periods_of(school) if choice.is_active],
        }
        return Response(StudentMenuOutput(payload).data)


class ReminderPreferenceView(APIView):
    permission_classes = [IsGuardian]

    @extend_schema(
        operation_id="canteen_reminder_update",
        tags=[TAG],
        summary="Remind me before the cut-off",
        description="When on, you are notified before the cut-off on days a child of yours has no order.",
        request=ReminderPreferenceInput,
        responses={200: ReminderPreferenceOutput, **problems(400)},
        examples=[
            OpenApiExample("Turn on", value={"enabled": True}, request_only=True),
            OpenApiExample("On", value={"enabled": True}, response_only=True),
        ],
    )
    def put(self, request):
        data = ReminderPreferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        preference = configuration.reminder_set(guardian=selectors.guardian_for_user(request.user), **data.validated_data)
        return Response(ReminderPreferenceOutput(preference).data)
