"""What events tell webhook subscribers (the school's). Ids and integer cents only.

Not wired yet: the events app calls `signup_confirmed_publish` wherever a sign-up becomes
`confirmed`, inside that transaction, so each confirmation is published once.
"""

from events.models import Signup
from guardians.webhooks import webhook_event_publish
from wallet.models.ledger import CURRENCY


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
