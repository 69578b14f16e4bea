"""What the wallet tells webhook subscribers. Payloads: ids and integer cents, never card identifiers.

Each `*_publish` runs inside the transaction that moves the money, so it is recorded once
per movement: an idempotent replay moves nothing and publishes nothing.
"""

from core.webhooks import webhook_event_publish
from core.webhooks.event_types import SCHOOL, EventType, register
from guardians.models import GuardianLink
from wallet.models import CardCharge, TopUp
from wallet.models.ledger import CURRENCY

register(
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
)


def card_charged_publish(*, charge: CardCharge) -> None:
    webhook_event_publish(
        event_type="card.charged",
        school_id=charge.student.school_id,
        data={
            "charge_id": charge.pk,
            "student_id": charge.student_id,
            "merchant_id": charge.merchant_id,
            "terminal_id": charge.terminal_id,
            "amount": charge.amount,
            "currency": CURRENCY,
            "categories": list(charge.categories),
            "created_at": charge.created_at,
        },
    )


def topup_succeeded_publish(*, topup: TopUp) -> None:
    """A wallet belongs to no school: the event goes to each school where the guardian has a linked child."""
    links = GuardianLink.objects.filter(guardian_id=topup.guardian_id, revoked_at__isnull=True)
    school_ids = sorted(set(links.values_list("student__school_id", flat=True)))
    student_school_id = topup.student.school_id if topup.student_id else None
    for school_id in school_ids:
        webhook_event_publish(
            event_type="wallet.topup_succeeded",
            school_id=school_id,
            data={
                "topup_id": topup.pk,
                "guardian_id": topup.guardian_id,
                # Only the school of the child an automatic top-up was for learns which child it was.
                "student_id": topup.student_id if school_id == student_school_id else None,
                "amount": topup.amount,
                "fee": topup.fee,
                "currency": CURRENCY,
                "automatic": topup.automatic,
                "succeeded_at": topup.succeeded_at,
            },
        )
