"""The school canteen: menus, the child's food profile, pre-orders, stock, cut-off runs."""

from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from core import clock
from guardians.models import Guardian, School, Student, User
from wallet.models import Hold, LedgerTransaction, Merchant


class Allergen(models.TextChoices):
    """The allergens Australian food labelling must declare (FSANZ)."""

    PEANUT = "peanut"
    TREE_NUT = "tree_nut"
    MILK = "milk"
    EGG = "egg"
    SESAME = "sesame"
    FISH = "fish"
    SHELLFISH = "shellfish"
    SOY = "soy"
    GLUTEN = "gluten", "Wheat / gluten"
    LUPIN = "lupin"


class DietaryTag(models.TextChoices):
    VEGETARIAN = "vegetarian"
    VEGAN = "vegan"
    HALAL = "halal"
    KOSHER = "kosher"
    GLUTEN_FREE = "gluten_free"
    DAIRY_FREE = "dairy_free"


class ItemCategory(models.TextChoices):
    LUNCH = "lunch"
    SNACK = "snack"
    DRINK = "drink"
    DESSERT = "dessert"
    FRUIT = "fruit"


class CanteenSettings(models.Model):
    """How a school's canteen runs. The cut-offs are the service periods' (ServicePeriod); the default
    period's cut-off is mirrored in School.canteen_cutoff and its late window in `late_cutoff`."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="canteen_settings")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", help_text="Who is paid for orders.")
    # Weekdays (0 = Monday) the canteen serves; terms and closure days still apply.
    service_weekdays = models.JSONField(default=list)
    max_weeks_ahead = models.PositiveSmallIntegerField(default=4)
    # Optional late window: items marked `late_menu` may be ordered until this local time.
    late_cutoff = models.TimeField(null=True, blank=True)
    reminder_minutes_before = models.PositiveSmallIntegerField(default=60)

    def save(self, *args, **kwargs):
        if not self.service_weekdays:
            self.service_weekdays = [0, 1, 2, 3, 4]
        super().save(*args, **kwargs)


class ServicePeriod(models.Model):
    """A meal the canteen serves on a service day (recess, lunch, ...), with its own cut-off, menu and kitchen run.

    Each school has exactly one default period: the one an order or a menu item without a period
    belongs to (what the API meant before periods existed). Cut-offs are school-local wall-clock times.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="service_periods")
    name = models.CharField(max_length=60)
    cutoff = models.TimeField(help_text="School-local time orders for this period close on the day.")
    late_cutoff = models.TimeField(null=True, blank=True, help_text="Late-menu items may be ordered until this local time.")
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["cutoff", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="service_period_name_unique"),
            models.UniqueConstraint(fields=["school"], condition=Q(is_default=True), name="one_default_period_per_school"),
            models.CheckConstraint(
                condition=Q(late_cutoff__isnull=True) | Q(late_cutoff__gt=models.F("cutoff")), name="service_period_late_after_cutoff"
            ),
        ]

    def __str__(self):
        return self.name


class MenuItem(models.Model):
    """Price and allergen changes never touch placed orders' lines (they keep a snapshot); an added allergen
    still flags open orders of children declared allergic to it (canteen/allergy_alerts.py)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="menu_items")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    price = models.PositiveIntegerField(help_text="Cents.")
    category = models.CharField(max_length=20, choices=ItemCategory.choices)
    allergens = models.JSONField(default=list, blank=True)
    dietary_tags = models.JSONField(default=list, blank=True)
    weekdays = models.JSONField(default=list, blank=True, help_text="Empty: every service day.")
    year_levels = models.JSONField(default=list, blank=True, help_text="Empty: every year level.")
    daily_stock_limit = models.PositiveIntegerField(null=True, blank=True)
    late_menu = models.BooleanField(default=False, help_text="Orderable in the late window after the cut-off.")
    # The periods the item is offered in; none: the school's default period only.
    periods = models.ManyToManyField(ServicePeriod, blank=True, related_name="menu_items")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["category", "name", "id"]
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="menu_item_price_positive")]

    def __str__(self):
        return self.name


class FoodProfile(models.Model):
    """The child's allergens, dietary needs and bans: one per child, shared by all their guardians, enforced."""

    student = models.OneToOneField(Student, on_delete=models.CASCADE, related_name="food_profile")
    allergens = models.JSONField(default=list, blank=True)
    dietary_needs = models.JSONField(default=list, blank=True)
    banned_item_ids = models.JSONField(default=list, blank=True)
    banned_categories = models.JSONField(default=list, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class OrderStatus(models.TextChoices):
    PLACED = "placed"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"
    NOT_COLLECTED = "not_collected"
    REFUNDED = "refunded"


# A child has at most one order per period and day in these states (`one_live_order_per_child_period_day`).
LIVE_ORDER_STATUSES = ["placed", "fulfilled", "not_collected"]


class Order(models.Model):
    """A pre-order for one child, one service day and one period. Placed means paid for (held, then posted at the period's cut-off)."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="canteen_orders")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="canteen_orders")
    service_date = models.DateField()
    period = models.ForeignKey(ServicePeriod, on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="canteen_orders")
    status = models.CharField(max_length=15, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.PositiveIntegerField()
    late = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    hold = models.OneToOneField(Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="canteen_order")
    # Set when the money is final: the posted hold, or the direct charge of a late order.
    payment = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="canteen_order")
    refund = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancel_reason = models.CharField(max_length=40, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    # Lines that carry an allergen declared for the child after the order was placed:
    # [{"menu_item_id", "name", "allergens"}], kept by canteen/allergy_alerts.py. Empty: nothing flagged.
    allergen_alerts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-service_date", "-id"]
        indexes = [models.Index(fields=["school", "service_date", "status"], name="order_school_day_idx")]
        constraints = [
            # One live order per child, period and day; change it rather than adding a second.
            models.UniqueConstraint(
                fields=["student", "service_date", "period"],
                condition=Q(status__in=LIVE_ORDER_STATUSES),
                name="one_live_order_per_child_period_day",
            )
        ]

    @property
    def receipt_number(self) -> str:
        return f"C{self.school_id}-{self.service_date:%Y%m%d}-{self.pk:06d}"

    @cached_property
    def receipt_lines(self) -> list["OrderLine"]:
        """The lines as the receipt lists them: those a `prefetch_related("lines")` loaded, or one read.
        A placement sets this to the lines its database call wrote (canteen/order_write.py), read from nothing."""
        return list(self.lines.all())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    menu_item = models.ForeignKey(MenuItem, on_delete=models.PROTECT, related_name="+")
    # What was bought, as it was when it was bought.
    name = models.CharField(max_length=120)
    unit_price = models.PositiveIntegerField()
    quantity = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20)
    allergens = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


class DailyStock(models.Model):
    """Units of an item ordered for a day: the row locked to keep a stock limit under concurrency."""

    menu_item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="daily_stock")
    service_date = models.DateField()
    ordered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["menu_item", "service_date"], name="daily_stock_unique")]


class CutoffRun(models.Model):
    """The cut-off's side effects for one school, day and period happen once: this row's uniqueness says so."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField()
    period = models.ForeignKey(ServicePeriod, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    orders_posted = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "service_date", "period"], name="one_cutoff_run_per_school_period_day")
        ]


class ReminderOptIn(models.Model):
    """A guardian who wants a nudge before the cut-off when a child has no order."""

    guardian = models.OneToOneField(Guardian, on_delete=models.CASCADE, related_name="canteen_reminder")
    enabled = models.BooleanField(default=True)

