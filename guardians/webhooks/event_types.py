"""The one registry of outbound event types: their names, who may subscribe, and what `data` holds.

Names are `<area>.<what_happened>`, past tense, and never change within /api/v1: a new
meaning gets a new name, and `data` only ever gains fields. Amounts are integer cents.
Payloads name things by id; they never carry card identifiers, and no personal data the
subscribing tenant could not already read through the API.
"""

from dataclasses import dataclass, field

SCHOOL = "school"
PROGRAM = "program"


@dataclass(frozen=True)
class EventType:
    name: str
    scope: str  # SCHOOL: a school's admin subscribes; PROGRAM: a voucher program's administrators do
    description: str
    example: dict = field(default_factory=dict)


_TYPES = [
    EventType(
        "wallet.topup_succeeded",
        SCHOOL,
        "A guardian's card top-up was paid and credited. Sent to each school where the guardian has a linked "
        "child; `student_id` is set for an automatic top-up of that school's student.",
        {"topup_id": 41, "guardian_id": 2, "student_id": None, "amount": 2000, "fee": 0, "currency": "AUD",
         "automatic": False, "succeeded_at": "2026-11-28T03:01:12Z"},
    ),
    EventType(
        "card.charged",
        SCHOOL,
        "A merchant terminal charged a student's card (once per charge; retries of the same sale are not resent).",
        {"charge_id": 912, "student_id": 7, "merchant_id": 1, "terminal_id": 3, "amount": 350, "currency": "AUD",
         "categories": ["canteen"], "created_at": "2026-11-28T00:45:00Z"},
    ),
    EventType(
        "canteen.order_placed",
        SCHOOL,
        "A guardian pre-ordered canteen food for a child (the price is held until the cut-off; a late order is "
        "charged at once).",
        {"order_id": 88, "student_id": 7, "service_date": "2026-12-02", "total": 950, "currency": "AUD",
         "late": False, "lines": [{"item_id": 5, "quantity": 1, "unit_price": 650}]},
    ),
    EventType(
        "canteen.orders_cut_off",
        SCHOOL,
        "A service day's orders closed at the school's cut-off and were charged; the prep list is final.",
        {"service_date": "2026-12-02", "orders_posted": 42, "cutoff_run_id": 17, "finished_at": "2026-12-01T21:31:00Z"},
    ),
    EventType(
        "voucher.redeemed",
        PROGRAM,
        "A provider redeemed one or more of the program's vouchers at a terminal.",
        {"redemption_id": 301, "merchant_id": 9, "amount": 10000, "currency": "AUD", "category": "sport",
         "voucher_ids": [1201], "created_at": "2026-11-28T05:10:00Z"},
    ),
    EventType(
        "voucher.settlement_paid",
        PROGRAM,
        "A settlement that pays a provider was paid out; `amount` is this program's part of it (its redemptions "
        "less voids). A settlement covering several programs sends each its own event.",
        {"settlement_id": 55, "merchant_id": 9, "business_date": "2026-11-27", "amount": 10000, "currency": "AUD",
         "paid_at": "2026-11-28T15:50:00Z"},
    ),
    EventType(
        "event.signup_confirmed",
        SCHOOL,
        "A child's place on a school event (excursion, camp, ...) was confirmed: consent signed and any fee paid.",
        {"signup_id": 64, "event_id": 12, "student_id": 7, "amount_paid": 2500, "currency": "AUD",
         "confirmed_at": "2026-11-28T06:00:00Z"},
    ),
]

EVENT_TYPES: dict[str, EventType] = {event_type.name: event_type for event_type in _TYPES}
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]

# Sent only on request (the API's ping) to one subscription; nobody subscribes to it.
PING = EventType("webhook.ping", SCHOOL, "A test delivery asked for through the API.", {"message": "Hello from Tuckbox"})


def event_types_for_scope(scope: str) -> list[str]:
    return [name for name, event_type in EVENT_TYPES.items() if event_type.scope == scope]
