"""Canteen domain errors, each with a stable code."""

from core.errors import ConflictError, DomainError, NotFoundError


class OrderingClosed(DomainError):
    code = "ordering_closed"
    default_message = "Ordering for that day has closed (the cut-off has passed)."


class SchoolClosed(DomainError):
    code = "school_closed"
    default_message = "The canteen does not serve on that day."


class TooFarAhead(DomainError):
    code = "too_far_ahead"
    default_message = "That day is too far ahead to order for."


class AllergenConflict(DomainError):
    code = "allergen_conflict"
    default_message = "The order contains an allergen declared for this child."


class ItemBanned(DomainError):
    code = "item_banned"
    default_message = "A guardian has banned an item or category in this order."


class ItemUnavailable(DomainError):
    code = "item_unavailable"
    default_message = "An item is not offered to this child on that day."


class OutOfStock(ConflictError):
    code = "out_of_stock"
    default_message = "An item has sold out for that day."


class OrderExists(ConflictError):
    code = "order_exists"
    default_message = "This child already has an order for that day; change it instead."


class OrderStateInvalid(ConflictError):
    code = "order_state_invalid"
    default_message = "The order cannot make that change from its current state."


class CollectionNotToday(DomainError):
    code = "collection_not_today"
    default_message = "An order can be collected only on its own service day (the school's local date)."


class DayNotStarted(DomainError):
    code = "day_not_started"
    default_message = "A service day can be closed only on or after that day (the school's local date)."


class OrderNotFound(NotFoundError):
    code = "order_not_found"
    default_message = "No such order."


class CanteenNotConfigured(DomainError):
    code = "canteen_not_configured"
    default_message = "This school's canteen is not set up for ordering."


class PeriodUnavailable(DomainError):
    code = "period_unavailable"
    default_message = "That service period does not exist at this school or is not taking orders."


class PeriodNameTaken(ConflictError):
    code = "period_name_taken"
    default_message = "The school already has a service period with that name."


class PeriodInvalid(DomainError):
    code = "period_invalid"
    default_message = "The service period's times are not valid."


class DefaultPeriodRequired(DomainError):
    code = "default_period_required"
    default_message = "The default service period cannot be deactivated: orders without a period go to it."
