"""The canteen's hot reads as SQL (core/sql.py says why): what every pre-order and counter sale reads."""

from dataclasses import dataclass
from datetime import date
from functools import cache

from canteen.models import CanteenSettings, FoodProfile, MenuItem, ServicePeriod
from core.sql import columns, fetch, fetch_one
from guardians.leavers_models import StudentLeaver
from guardians.models import ClosureDay, School, Student, Term
from wallet.models import Merchant, StudentCard
from wallet.queries import CARD_ACCEPTED_BY_MERCHANT

# The order already placed under a ledger reference: its hold's, or a late order's payment's. Each
# reference is found through its own unique index (joining both tables made PostgreSQL scan the ledger).
_ORDER_BY_REFERENCE = """
        SELECT o.id FROM canteen_order o
         WHERE o.hold_id = (SELECT h.id FROM wallet_hold h WHERE h.reference = %(reference)s)
            OR o.payment_id = (SELECT t.id FROM wallet_ledgertransaction t WHERE t.reference = %(reference)s)
         ORDER BY o.id LIMIT 1"""


@cache
def _item_period_ids_sql() -> str:
    """The periods an item `i` is offered in, as menus.with_period_ids gives them (`item.period_ids`)."""
    offered = MenuItem.periods.through._meta
    item_column, period_column = offered.get_field("menuitem").column, offered.get_field("serviceperiod").column
    return f"ARRAY(SELECT o.{period_column} FROM {offered.db_table} o WHERE o.{item_column} = i.id ORDER BY o.{period_column})"


@cache
def _settings_sql() -> str:
    return f"""
        SELECT {columns(CanteenSettings, "cs")}, {columns(Merchant, "m")}
          FROM canteen_canteensettings cs
          JOIN wallet_merchant m ON m.id = cs.merchant_id
         WHERE cs.school_id = %s"""


def settings_of_school(school_id: int) -> CanteenSettings | None:
    """A school's canteen settings with the merchant its orders pay."""
    row = fetch_one(_settings_sql(), [school_id], (CanteenSettings, Merchant))
    if row is None:
        return None
    settings, merchant = row
    settings.merchant = merchant
    return settings


@cache
def _food_profile_sql() -> str:
    return f"SELECT {columns(FoodProfile, 'f')} FROM canteen_foodprofile f WHERE f.student_id = %s"


def food_profile(student_id: int) -> FoodProfile | None:
    row = fetch_one(_food_profile_sql(), [student_id], (FoodProfile,))
    return row[0] if row else None


@cache
def _default_period_sql() -> str:
    return f"""
        SELECT {columns(ServicePeriod, "p")} FROM canteen_serviceperiod p
         WHERE p.school_id = %s AND p.is_default ORDER BY p.cutoff, p.id LIMIT 1"""


def default_period(school_id: int) -> ServicePeriod | None:
    row = fetch_one(_default_period_sql(), [school_id], (ServicePeriod,))
    return row[0] if row else None


@cache
def _counter_sale_reads_sql() -> str:
    return f"""
        SELECT {columns(StudentCard, "c")}, {columns(Student, "s")}, {columns(School, "sc")},
               {columns(MenuItem, "i")}, {columns(FoodProfile, "f")}
          FROM wallet_studentcard c
          JOIN guardians_student s ON s.id = c.student_id
          JOIN guardians_school sc ON sc.id = s.school_id
          LEFT JOIN canteen_menuitem i ON i.school_id = %(school)s AND i.is_active AND i.id = ANY(%(items)s)
          LEFT JOIN canteen_foodprofile f ON f.student_id = s.id
         WHERE c.identifier_hash = %(card)s AND {CARD_ACCEPTED_BY_MERCHANT}
         ORDER BY i.id"""


@dataclass(frozen=True)
class CounterSaleReads:
    """What a counter sale judges before it charges, read in one statement."""

    card: StudentCard | None  # with its student and school; None: unknown, or its school has not enabled the merchant
    items: list[MenuItem]  # the school's items on sale among those asked for (unknown, retired or other schools' left out)
    profile: FoodProfile | None  # the child's; None: none declared yet


def counter_sale_reads(*, card_identifier_hash: str, merchant_id: int, school_id: int | None, item_ids: list[int]) -> CounterSaleReads:
    """The card behind the identifier if the merchant may charge it, the items of the merchant's school
    (`school_id`; None: it serves none, so no item is found) and the card holder's food profile. Nothing
    about the items or the child comes back without the card: an unknown card learns nothing."""
    params = {"card": card_identifier_hash, "merchant": merchant_id, "school": school_id, "items": sorted(item_ids)}
    found = fetch(_counter_sale_reads_sql(), params, (StudentCard, Student, School, MenuItem, FoodProfile))
    if not found:
        return CounterSaleReads(None, [], None)
    card, student, school, _, profile = found[0]
    student.school, card.student = school, student
    return CounterSaleReads(card, [item for _, _, _, item, _ in found if item is not None], profile)


@dataclass(frozen=True)
class OrderContext:
    """What placing an order judges before its database call, read in one statement."""

    settings: CanteenSettings  # with the merchant the order pays
    period: ServicePeriod | None  # the one asked for (active, of this school), or the default when none is; None: not found
    profile: FoodProfile | None  # None: the child has none yet (the call opens it)
    term_and_closure: tuple[bool, bool, bool]  # as canteen/calendar.py's _term_and_closure answers for the day
    student_gone: bool  # a live leaving decision takes effect on or before the day
    placed_order_id: int | None  # the order already placed under the request's reference
    items: list[MenuItem]  # the school's items among those asked for (any state), each with `period_ids`


@cache
def _order_context_sql() -> str:
    terms, closures, leavers = Term._meta.db_table, ClosureDay._meta.db_table, StudentLeaver._meta.db_table
    return f"""
        SELECT {columns(CanteenSettings, "cs")}, {columns(Merchant, "m")}, {columns(ServicePeriod, "p")},
               {columns(FoodProfile, "f")}, {columns(MenuItem, "i")},
               EXISTS (SELECT 1 FROM {terms} t WHERE t.school_id = cs.school_id),
               EXISTS (SELECT 1 FROM {terms} t WHERE t.school_id = cs.school_id
                          AND t.starts_on <= %(day)s AND t.ends_on >= %(day)s),
               EXISTS (SELECT 1 FROM {closures} c WHERE c.school_id = cs.school_id AND c.date = %(day)s),
               EXISTS (SELECT 1 FROM {leavers} l WHERE l.student_id = %(student)s AND l.undone_at IS NULL
                          AND l.leaving_on <= %(day)s),
               ({_ORDER_BY_REFERENCE}),
               {_item_period_ids_sql()}
          FROM canteen_canteensettings cs
          JOIN wallet_merchant m ON m.id = cs.merchant_id
          LEFT JOIN canteen_serviceperiod p ON p.id = (
               SELECT sp.id FROM canteen_serviceperiod sp
                WHERE sp.school_id = cs.school_id
                  AND CASE WHEN %(period)s::bigint IS NULL THEN sp.is_default ELSE sp.id = %(period)s AND sp.is_active END
                ORDER BY sp.cutoff, sp.id LIMIT 1)
          LEFT JOIN canteen_foodprofile f ON f.student_id = %(student)s
          LEFT JOIN canteen_menuitem i ON i.school_id = cs.school_id AND i.id = ANY(%(items)s)
         WHERE cs.school_id = %(school)s
         ORDER BY i.id"""


def order_context(
    *, school_id: int, student_id: int, day: date, period_id: int | None, reference: str, item_ids: list[int]
) -> OrderContext | None:
    """Everything placing an order reads before it judges (None: the school has no canteen): one row
    per item found among `item_ids`, the rest repeated on each."""
    params = {"school": school_id, "student": student_id, "day": day, "period": period_id, "reference": reference, "items": sorted(item_ids)}
    found = fetch(_order_context_sql(), params, (CanteenSettings, Merchant, ServicePeriod, FoodProfile, MenuItem))
    if not found:
        return None
    settings, merchant, period, profile, _, has_terms, in_a_term, closed, gone, placed_order_id, _ = found[0]
    settings.merchant = merchant
    items = []
    for _, _, _, _, item, *_, period_ids in found:
        if item is not None:
            item.period_ids = list(period_ids)
            items.append(item)
    return OrderContext(settings, period, profile, (has_terms, in_a_term, closed), gone, placed_order_id, items)


@cache
def _items_with_periods_sql() -> str:
    return f"""
        SELECT {columns(MenuItem, "i")}, {_item_period_ids_sql()}
          FROM canteen_menuitem i
         WHERE i.school_id = %s AND i.id = ANY(%s)
         ORDER BY i.id"""


def items_with_periods(school_id: int, item_ids: list[int]) -> list[MenuItem]:
    """The school's items among `item_ids` (any state), each with `period_ids` as menus.with_period_ids gives it."""
    items = []
    for item, period_ids in fetch(_items_with_periods_sql(), [school_id, sorted(item_ids)], (MenuItem,)):
        item.period_ids = list(period_ids)
        items.append(item)
    return items
