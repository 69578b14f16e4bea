"""Writes for events. Services are `<entity>_<verb>` with keyword-only arguments; see each module."""

from events.services.announcements import announcement_post
from events.services.card_payments import CardPaymentStarted, signup_card_payment_start, signup_pay_after_topup
from events.services.lifecycle import event_cancel, event_create, event_publish, event_update
from events.services.payments import (
    cancelled_signup_settle,
    event_cancellation_settle,
    event_fees_account,
    signup_pay_wallet,
)
from events.services.places import release_overdue_locked
from events.services.signups import Evidence, signup_decline, signup_sign, signup_withdraw
from events.services.staff_tools import attendance_mark, event_remind

__all__ = [
    "CardPaymentStarted",
    "signup_card_payment_start",
    "signup_pay_after_topup",
    "Evidence",
    "announcement_post",
    "attendance_mark",
    "cancelled_signup_settle",
    "event_cancel",
    "event_cancellation_settle",
    "event_create",
    "event_fees_account",
    "event_publish",
    "event_remind",
    "event_update",
    "release_overdue_locked",
    "signup_decline",
    "signup_pay_wallet",
    "signup_sign",
    "signup_withdraw",
]
