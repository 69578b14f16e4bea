from events.models.announcements import Announcement, Audience
from events.models.consent import GENESIS_HASH, ConsentChain, ConsentDocument, ConsentEventChain, ConsentRecord
from events.models.events import ConsentFormVersion, Event, EventKind, EventStatus
from events.models.signups import HOLDS_PLACE, LIVE, UNPAID_PLACE, Attendance, PaymentMethod, Signup, SignupStatus

__all__ = [
    "GENESIS_HASH",
    "HOLDS_PLACE",
    "LIVE",
    "UNPAID_PLACE",
    "Announcement",
    "Attendance",
    "Audience",
    "ConsentChain",
    "ConsentDocument",
    "ConsentEventChain",
    "ConsentFormVersion",
    "ConsentRecord",
    "Event",
    "EventKind",
    "EventStatus",
    "PaymentMethod",
    "Signup",
    "SignupStatus",
]
