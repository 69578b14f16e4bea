"""The one registry of outbound event types: their names, who may subscribe, and what `data` holds.

Each app declares its own types in its `webhook_events` module and registers them when Django
starts (its AppConfig.ready), so the kernel names no app above it.

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


EVENT_TYPES: dict[str, EventType] = {}
EVENT_TYPE_CHOICES: list[tuple[str, str]] = []  # the schema's enum; filled in place as apps register


def register(*event_types: EventType) -> None:
    """Add an app's event types (from its AppConfig.ready, through its `webhook_events` module)."""
    for event_type in event_types:
        if event_type.name in EVENT_TYPES:
            raise ValueError(f"webhook event type {event_type.name!r} is registered twice")
        EVENT_TYPES[event_type.name] = event_type
        EVENT_TYPE_CHOICES.append((event_type.name, event_type.name))

# Sent only on request (the API's ping) to one subscription; nobody subscribes to it.
PING = EventType("webhook.ping", SCHOOL, "A test delivery asked for through the API.", {"message": "Hello from Tuckbox"})


def event_types_for_scope(scope: str) -> list[str]:
    return [name for name, event_type in EVENT_TYPES.items() if event_type.scope == scope]
