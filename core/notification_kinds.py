"""Every kind of notification the product sends, with what a guardian sees when choosing email for it.

A kind missing here still works (it is emailed, as before); listing it lets
guardians turn its email off. `email_default` is what applies with no choice made.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: str
    email_default: bool = True


KINDS: dict[str, NotificationKind] = {
    kind.code: kind
    for kind in [
        NotificationKind("low_balance", "A child's card balance is low"),
        NotificationKind("event_published", "A new excursion or event for my child"),
        NotificationKind("event_signup", "My event sign-ups: confirmations, payments and waitlist places"),
        NotificationKind("event_reminder", "Reminders before an event's sign-up deadline"),
        NotificationKind("event_cancelled", "An event was cancelled and refunded"),
        NotificationKind("announcement", "Announcements from the school"),
        NotificationKind("absence_acknowledged", "The school has seen my absence note", email_default=False),
        NotificationKind("consent_chain_broken", "Consent evidence failed verification (school administrators)"),
        NotificationKind("auto_topup_succeeded", "An automatic top-up was charged to my saved card"),
        NotificationKind("auto_topup_failed", "An automatic top-up could not be charged"),
        NotificationKind("auto_topup_disabled", "Automatic top-up was switched off because its saved card was removed"),
        NotificationKind("canteen_reminder", "A reminder before the canteen cut-off when a child has no order"),
        NotificationKind("canteen_allergy_alert", "An allergy declared after ordering conflicts with a canteen order"),
        NotificationKind("canteen_prep_list", "The kitchen's prep list is ready (canteen staff)"),
        NotificationKind("voucher_issued", "A voucher was issued to me"),
        NotificationKind("voucher_expiring", "A voucher of mine expires soon"),
        NotificationKind("voucher_revoked", "A voucher of mine was revoked"),
        NotificationKind("voucher_cancelled", "A voucher of mine was cancelled"),
    ]
}


def kind_email_default(code: str) -> bool:
    kind = KINDS.get(code)
    return kind.email_default if kind else True
