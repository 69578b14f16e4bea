"""Menu items and the rules that decide what a given child may order on a given day."""

from dataclasses import dataclass
from datetime import date

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import Q, QuerySet

from audit.services import audit_record, changed_fields, snapshot
from canteen import periods as service_periods
from canteen import queries
from canteen.errors import AllergenConflict, ItemBanned, ItemUnavailable
from canteen.models import CanteenSettings, FoodProfile, MenuItem, ServicePeriod
from core import clock
from core.locks import lock_one
from guardians.models import School, Student, User

MENU_ITEM_FIELDS = (
    "name",
    "description",
    "price",
    "category",
    "allergens",
    "dietary_tags",
    "weekdays",
    "year_levels",
    "daily_stock_limit",
    "late_menu",
    "is_active",
)


@dataclass(frozen=True)
class PricedLine:
    menu_item: MenuItem
    quantity: int

    @property
    def menu_item_id(self) -> int:
        return self.menu_item.pk

    @property
    def line_total(self) -> int:
        return self.menu_item.price * self.quantity


def with_period_ids(items: QuerySet) -> QuerySet:
    """Items with `period_ids`: the ids of the periods each is offered in (empty: the default period only)."""
    return items.annotate(period_ids=ArrayAgg("periods__id", filter=Q(periods__isnull=False), order_by="periods__id", default=[]))


def menu_item_create(*, school: School, period_ids: list[int] | None = None, **fields) -> MenuItem:
    """`period_ids` omitted: the item is offered in the school's default period."""
    periods = service_periods.periods_by_ids(school, period_ids) if period_ids is not None else [service_periods.default_period(school)]
    with transaction.atomic():
        item = MenuItem.objects.create(school=school, **{k: v for k, v in fields.items() if k in MENU_ITEM_FIELDS})
        item.periods.set(periods or [])
        audit_record(
            action="canteen.menu_item_create",
            object_type="canteen.menu_item",
            object_id=item.pk,
            school_id=school.pk,
            after={**snapshot(item, MENU_ITEM_FIELDS), "period_ids": sorted(p.pk for p in periods or [])},
        )
    return with_period_ids(MenuItem.objects.filter(pk=item.pk)).get()


def menu_item_update(*, item: MenuItem, period_ids: list[int] | None = None, **fields) -> MenuItem:
    """Edit an item. Orders already placed keep their own copy of name, price and allergens, and their period."""
    changed = [name for name in fields if name in MENU_ITEM_FIELDS]
    periods = service_periods.periods_by_ids(item.school, period_ids) if period_ids is not None else None
    with transaction.atomic():
        item = lock_one(MenuItem.objects.filter(pk=item.pk))
        before = snapshot(item, changed)
        if periods is not None:
            before["period_ids"] = sorted(item.periods.values_list("pk", flat=True))
        for name in changed:
            setattr(item, name, fields[name])
        item.updated_at = clock.now()
        item.save(update_fields=[*changed, "updated_at"])
        after = snapshot(item, changed)
        if periods is not None:
            item.periods.set(periods)
            after["period_ids"] = sorted(p.pk for p in periods)
        before, after = changed_fields(before, after)
        audit_record(
            action="canteen.menu_item_update",
            object_type="canteen.menu_item",
            object_id=item.pk,
            school_id=item.school_id,
            before=before,
            after=after,
        )
    return with_period_ids(MenuItem.objects.filter(pk=item.pk)).get()


def food_profile_for(student: Student) -> FoodProfile:
    profile = queries.food_profile(student.pk)
    if profile is None:
        profile, _ = FoodProfile.objects.get_or_create(student=student)
    return profile


def food_profile_update(*, student: Student, updated_by: User, **fields) -> FoodProfile:
    with transaction.atomic():
        profile = food_profile_for(student)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.updated_at = clock.now()
        profile.updated_by = updated_by
        profile.save()
    return profile


def offered_on(item: MenuItem, *, student: Student, day: date, period: ServicePeriod | None = None) -> bool:
    """Active, on the day's weekday, for the child's year level, and (given a period) in that period.
    A period is judged from the item's `period_ids` (`with_period_ids`)."""
    return (
        item.is_active
        and (not item.weekdays or day.weekday() in item.weekdays)
        and (not item.year_levels or student.year_level in item.year_levels)
        and (period is None or offered_in(item, period))
    )


def offered_in(item: MenuItem, period: ServicePeriod) -> bool:
    return period.pk in item.period_ids if item.period_ids else period.is_default


def conflicts_for(item: MenuItem, profile: FoodProfile) -> list[str]:
    return sorted(set(item.allergens) & set(profile.allergens))


def is_banned(item: MenuItem, profile: FoodProfile) -> bool:
    return item.pk in profile.banned_item_ids or item.category in profile.banned_categories


def priced_lines(
    *, student: Student, settings: CanteenSettings, day: date, period: ServicePeriod, lines, late: bool,
    profile: FoodProfile | None = None, items: list[MenuItem] | None = None,
) -> list[PricedLine]:
    """Resolve requested lines to items this child may order that day in that period, or refuse the whole order.

    Allergens are enforced, not warned about: any declared allergen refuses the
    order and names the items and allergens. `profile`: the child's, when the caller read it already;
    a child with none declares nothing (the order's database call opens it, under its lock). `items`:
    the school's items among those asked for, each with `period_ids`, when the caller read them already.
    """
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line.item_id] = quantities.get(line.item_id, 0) + line.quantity
    if items is None:
        items = queries.items_with_periods(student.school_id, list(quantities))
    items = {item.pk: item for item in items}
    unavailable = sorted(
        item_id
        for item_id in quantities
        if item_id not in items
        or not offered_on(items[item_id], student=student, day=day, period=period)
        or (late and not items[item_id].late_menu)
    )
    if unavailable:
        raise ItemUnavailable(item_ids=unavailable)
    profile = profile or queries.food_profile(student.pk) or FoodProfile(student=student)
    conflicts = [
        {"item_id": item.pk, "name": item.name, "allergens": conflicts_for(item, profile)}
        for item in items.values()
        if conflicts_for(item, profile)
    ]
    if conflicts:
        raise allergen_conflict(student, conflicts)
    banned = sorted(item.pk for item in items.values() if is_banned(item, profile))
    if banned:
        raise ItemBanned(item_ids=banned)
    return [PricedLine(items[item_id], quantity) for item_id, quantity in sorted(quantities.items())]


def allergen_conflict(student: Student, conflicts: list[dict]) -> AllergenConflict:
    """The refusal naming each item and the child's allergens it carries: [{"item_id", "name", "allergens"}].
    Judged on the read here (priced_lines) and again under the food profile's lock by the order's
    database function (canteen/sql/orders.pg.sql), so an allergy declared meanwhile still refuses."""
    names = ", ".join(f"{c['name']} ({', '.join(c['allergens'])})" for c in conflicts)
    return AllergenConflict(f"{student.first_name} is declared allergic to: {names}.", conflicts=conflicts)


def menu_for_student(*, student: Student, day: date, period: ServicePeriod) -> list[tuple[MenuItem, list[str], bool]]:
    """Every active item of the child's school offered that day in the period, with its allergen conflicts and ban flag."""
    profile = food_profile_for(student)
    return [
        (item, conflicts_for(item, profile), is_banned(item, profile))
        for item in with_period_ids(MenuItem.objects.filter(school_id=student.school_id, is_active=True))
        if offered_on(item, student=student, day=day, period=period)
    ]
