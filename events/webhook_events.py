"""What events tell webhook subscribers (the school's). Ids and integer cents only.

Not wired yet: the events app calls `signup_confirmed_publish` wherever a sign-up becomes
`confirmed`, inside that transaction, so each confirmation is published once.
"""

from core.webhooks import webhook_event_publish
from core.webhooks.event_types import SCHOOL, EventType, register
from events.models import Signup
from wallet.models.ledger import CURRENCY

register(
    EventType(
        "event.signup_confirmed",
        SCHOOL,
        "A child's place on a school event (excursion, camp, ...) was confirmed: consent signed and any fee paid.",
        {"signup_id": 64, "event_id": 12, "student_id": 7, "amount_paid": 2500, "currency": "AUD",
         "confirmed_at": "2026-11-28T06:00:00Z"},
    ),
)


def signup_confirmed_publish(*, signup: Signup) -> None:
    webhook_event_publish(
        event_type="event.signup_confirmed",
        school_id=signup.event.school_id,
        data={
            "signup_id": signup.pk,
            "event_id": signup.event_id,
            "student_id": signup.student_id,
            "amount_paid": signup.amount_paid,
            "currency": CURRENCY,
            "confirmed_at": signup.status_changed_at,
        },
    )
