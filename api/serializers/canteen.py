from rest_framework import serializers

from api.serializers.fields import CentsField
from canteen.models import Allergen, DietaryTag, ItemCategory, OrderStatus

WEEKDAY = {"min_value": 0, "max_value": 6}
PERIOD_IDS_HELP = "The service periods the item is offered in; omitted on create: the school's default period. Empty: the default period only."


class ServicePeriodInput(serializers.Serializer):
    name = serializers.CharField(max_length=60, help_text="As printed on labels, e.g. Recess.")
    cutoff = serializers.TimeField(help_text="School-local time orders for the period close on the day, e.g. 08:30. A time the clocks skip on a daylight-saving day is refused (`nonexistent_local_time`).")
    late_cutoff = serializers.TimeField(required=False, allow_null=True, default=None, help_text="Late-menu items may be ordered until this local time (after `cutoff`).")
    is_active = serializers.BooleanField(default=True, help_text="An inactive period takes no orders; the default period is always active.")


class ServicePeriodUpdateInput(ServicePeriodInput):
    """Every field optional: send what changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class ServicePeriodOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    cutoff = serializers.TimeField()
    late_cutoff = serializers.TimeField(allow_null=True)
    is_default = serializers.BooleanField(help_text="Orders and menu items that name no period belong to it; its times are the settings' canteen_cutoff and late_cutoff.")
    is_active = serializers.BooleanField()


class MenuItemInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    price = CentsField(max_value=10_000)
    category = serializers.ChoiceField(choices=ItemCategory.choices)
    allergens = serializers.ListField(child=serializers.ChoiceField(choices=Allergen.choices), default=list, max_length=10)
    dietary_tags = serializers.ListField(child=serializers.ChoiceField(choices=DietaryTag.choices), default=list, max_length=6)
    weekdays = serializers.ListField(child=serializers.IntegerField(**WEEKDAY), default=list, max_length=7, help_text="0 = Monday; empty: every service day.")
    year_levels = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=12), default=list, max_length=13)
    daily_stock_limit = serializers.IntegerField(min_value=0, max_value=10_000, allow_null=True, default=None)
    late_menu = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)
    period_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=10, help_text=PERIOD_IDS_HELP)


class MenuItemUpdateInput(MenuItemInput):
    """Every field optional: send what changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class MenuItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.IntegerField()
    category = serializers.CharField()
    allergens = serializers.ListField(child=serializers.CharField())
    dietary_tags = serializers.ListField(child=serializers.CharField())
    weekdays = serializers.ListField(child=serializers.IntegerField())
    year_levels = serializers.ListField(child=serializers.IntegerField())
    daily_stock_limit = serializers.IntegerField(allow_null=True)
    late_menu = serializers.BooleanField()
    is_active = serializers.BooleanField()
    period_ids = serializers.ListField(child=serializers.IntegerField(), help_text=PERIOD_IDS_HELP)


class StudentMenuItemOutput(MenuItemOutput):
    allergen_conflicts = serializers.ListField(child=serializers.CharField(), help_text="This child's declared allergens in the item; ordering it is refused.")
    banned = serializers.BooleanField(help_text="A guardian banned the item or its category.")


class PeriodChoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StudentMenuOutput(serializers.Serializer):
    service_date = serializers.DateField()
    period_id = serializers.IntegerField()
    period = serializers.CharField(help_text="The service period's name (Recess, Lunch).")
    cutoff_at = serializers.DateTimeField(help_text="Orders for this day and period close at this instant (the period's school-local cut-off).")
    ordering_open = serializers.BooleanField()
    items = StudentMenuItemOutput(many=True)
    periods = PeriodChoiceOutput(
        many=True, help_text="The school's open service periods in the day's order, this one included: ask with `period_id` for another's menu."
    )


class FoodProfileInput(serializers.Serializer):
    allergens = serializers.ListField(child=serializers.ChoiceField(choices=Allergen.choices), required=False, max_length=10)
    dietary_needs = serializers.ListField(child=serializers.ChoiceField(choices=DietaryTag.choices), required=False, max_length=6)
    banned_item_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=200)
    banned_categories = serializers.ListField(child=serializers.ChoiceField(choices=ItemCategory.choices), required=False, max_length=5)
    notes = serializers.CharField(max_length=300, required=False, allow_blank=True)


class FoodProfileOutput(serializers.Serializer):
    allergens = serializers.ListField(child=serializers.CharField())
    dietary_needs = serializers.ListField(child=serializers.CharField())
    banned_item_ids = serializers.ListField(child=serializers.IntegerField())
    banned_categories = serializers.ListField(child=serializers.CharField())
    notes = serializers.CharField()
    updated_at = serializers.DateTimeField()


class OrderLineInput(serializers.Serializer):
    item_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=10, default=1)


class OrderPlaceInput(serializers.Serializer):
    service_date = serializers.DateField()
    period_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None, help_text="The service period; omitted: the school's default period.")
    items = OrderLineInput(many=True, min_length=1, max_length=20)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class OrderChangeInput(serializers.Serializer):
    items = OrderLineInput(many=True, min_length=1, max_length=20)


class OrderLineOutput(serializers.Serializer):
    menu_item_id = serializers.IntegerField()
    name = serializers.CharField()
    unit_price = serializers.IntegerField()
    quantity = serializers.IntegerField()
    line_total = serializers.IntegerField()
    allergens = serializers.ListField(child=serializers.CharField())


class AllergenAlertOutput(serializers.Serializer):
    menu_item_id = serializers.IntegerField()
    name = serializers.CharField()
    allergens = serializers.ListField(child=serializers.CharField(), help_text="The child's declared allergens this line carries.")


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    student_id = serializers.IntegerField()
    student_name = serializers.SerializerMethodField()
    service_date = serializers.DateField()
    period_id = serializers.IntegerField()
    period = serializers.CharField(source="period.name", help_text="The service period's name (Recess, Lunch).")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    payment_state = serializers.SerializerMethodField(help_text="held (reserved until the cut-off), charged, released or refunded.")
    total = serializers.IntegerField()
    late = serializers.BooleanField()
    note = serializers.CharField()
    lines = OrderLineOutput(many=True, source="receipt_lines")
    allergen_alerts = AllergenAlertOutput(
        many=True,
        help_text="Lines carrying an allergen declared for the child after the order was placed. The kitchen does not "
        "serve them; change or cancel the order. Empty when nothing is flagged.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    collected_at = serializers.DateTimeField(allow_null=True)

    def get_student_name(self, order) -> str:
        return f"{order.student.first_name} {order.student.last_name}"

    def get_payment_state(self, order) -> str:
        if order.refund_id:
            return "refunded"
        if order.payment_id:
            return "charged"
        if order.hold_id and order.hold.status == "pending":
            return "held"
        if order.hold_id and order.hold.status == "posted":
            return "charged"
        return "released"


class PrepItemOutput(serializers.Serializer):
    menu_item_id = serializers.IntegerField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    period_id = serializers.IntegerField()
    period = serializers.CharField(help_text="Counts are per service period: recess and lunch are made apart.")


class PrepLabelItemOutput(serializers.Serializer):
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    do_not_serve = serializers.BooleanField(help_text="The line carries an allergen declared for the child after ordering.")


class PrepLabelOutput(serializers.Serializer):
    order_id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    student_name = serializers.CharField()
    roll_class = serializers.CharField()
    year_level = serializers.IntegerField()
    school_name = serializers.CharField()
    service_date = serializers.DateField()
    service = serializers.CharField(help_text="The order's service period, as printed on the label (Recess, Lunch).")
    period_id = serializers.IntegerField()
    items = PrepLabelItemOutput(many=True)
    allergens = serializers.ListField(child=serializers.CharField(), help_text="The child's declared allergens, read from the profile now.")
    allergen_alerts = AllergenAlertOutput(many=True, help_text="Lines not to serve: they carry an allergen declared after ordering.")
    dietary_needs = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    late = serializers.BooleanField()


class PrepClassOutput(serializers.Serializer):
    roll_class = serializers.CharField()
    orders = PrepLabelOutput(many=True)


class PrepListOutput(serializers.Serializer):
    school_id = serializers.IntegerField()
    service_date = serializers.DateField()
    period_id = serializers.IntegerField(allow_null=True, help_text="The period asked for; null: every period of the day.")
    period = serializers.CharField(allow_null=True)
    order_count = serializers.IntegerField()
    alerts = PrepLabelOutput(many=True, help_text="The day's orders with lines not to serve, first so nobody misses them.")
    items = PrepItemOutput(many=True)
    classes = PrepClassOutput(many=True)
    labels = PrepLabelOutput(many=True)


class DayQueryInput(serializers.Serializer):
    date = serializers.DateField(help_text="Service day, YYYY-MM-DD.")


class DayPeriodQueryInput(DayQueryInput):
    period_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class DayCloseOutput(serializers.Serializer):
    service_date = serializers.DateField()
    not_collected = OrderOutput(many=True)


class CounterSaleInput(serializers.Serializer):
    card_identifier = serializers.CharField(max_length=40)
    items = OrderLineInput(many=True, min_length=1, max_length=20)


class CounterSaleOutput(serializers.Serializer):
    charge_id = serializers.IntegerField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    remaining_balance = serializers.IntegerField()
    lines = OrderLineOutput(many=True)
    student_first_name = serializers.CharField()
    student_last_initial = serializers.CharField()


class CanteenSettingsInput(serializers.Serializer):
    canteen_cutoff = serializers.TimeField(required=False, help_text="School-local time orders close on the day, e.g. 08:30.")
    late_cutoff = serializers.TimeField(required=False, allow_null=True)
    max_weeks_ahead = serializers.IntegerField(required=False, min_value=0, max_value=12)
    reminder_minutes_before = serializers.IntegerField(required=False, min_value=5, max_value=24 * 60)
    service_weekdays = serializers.ListField(child=serializers.IntegerField(**WEEKDAY), required=False, min_length=1, max_length=7)


class CanteenSettingsOutput(serializers.Serializer):
    canteen_cutoff = serializers.TimeField()
    late_cutoff = serializers.TimeField(allow_null=True)
    max_weeks_ahead = serializers.IntegerField()
    reminder_minutes_before = serializers.IntegerField()
    service_weekdays = serializers.ListField(child=serializers.IntegerField())
    time_zone = serializers.CharField()


class ReminderPreferenceInput(serializers.Serializer):
    enabled = serializers.BooleanField()


class ReminderPreferenceOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
