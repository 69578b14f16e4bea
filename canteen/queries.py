"""The canteen's hot reads as SQL (core/sql.py says why): what every pre-order and counter sale reads."""

from functools import cache

from canteen.models import CanteenSettings, FoodProfile, MenuItem, ServicePeriod
from core.sql import columns, fetch, fetch_one, scalar
from wallet.models import Merchant


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
def _active_items_sql() -> str:
    return f"""
        SELECT {columns(MenuItem, "i")} FROM canteen_menuitem i
         WHERE i.school_id = %s AND i.is_active AND i.id = ANY(%s)
         ORDER BY i.id"""


def active_items(school_id: int, item_ids: list[int]) -> list[MenuItem]:
    """The school's items on sale among `item_ids`; an unknown, retired or other school's item is left out."""
    return [item for (item,) in fetch(_active_items_sql(), [school_id, sorted(item_ids)], (MenuItem,))]


def order_id_by_reference(reference: str) -> int | None:
    """The order already placed under this ledger reference: its hold's, or a late order's payment's.
    Each reference is found through its own unique index (joining both tables made PostgreSQL scan
    the ledger)."""
    sql = """
        SELECT o.id FROM canteen_order o
         WHERE o.hold_id = (SELECT h.id FROM wallet_hold h WHERE h.reference = %s)
            OR o.payment_id = (SELECT t.id FROM wallet_ledgertransaction t WHERE t.reference = %s)
         ORDER BY o.id LIMIT 1"""
    return scalar(sql, [reference, reference])
