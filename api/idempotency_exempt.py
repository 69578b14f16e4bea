"""POSTs that do not take an `Idempotency-Key`, each with the reason.

Every other POST creates or moves something and honours the key (api/idempotency.py);
tests/foundation/test_idempotency_coverage.py fails for a POST that is neither.
"""

TRANSITION = "a state transition of one existing object: a retry finds it already there and moves nothing"

EXEMPT_POSTS: dict[str, str] = {
    # Anonymous callers: a key is scoped to its caller, and these have none.
    "auth_token_create": "sign-in exchanges credentials for a new session; nothing to replay, and the caller is anonymous",
    "auth_token_refresh": "a refresh token is single-use by design: presenting it twice is theft detection, not a retry",
    "guardian_register": "anonymous; a retry answers 409 email_taken, so no second account can be made",
    "stripe_webhook_receive": "Stripe's own event id deduplicates: each event is stored once and processed once",
    # Session and settings: they set a state rather than create or move anything.
    "auth_logout": "ends the caller's session; a retry finds it already ended",
    "auth_password_change": "sets the password; a retry with the old password is refused, nothing is created",
    "notification_mark_read": "sets read flags; marking again changes nothing",
    "card_freeze": TRANSITION,
    "card_unfreeze": TRANSITION,
    "card_report_lost": TRANSITION,
    "canteen_order_collect": TRANSITION,
    "canteen_day_close": "marks the day's uncollected orders; running again marks nothing more",
    "event_publish": "a state transition: a retry answers 409 event_state_invalid and notifies nobody again",
    "event_attendance_mark": "sets attendance; marking again overwrites with the same values",
    "absence_acknowledge": "sets the acknowledgement; acknowledging again changes nothing",
    "voucher_revoke": TRANSITION,
    "voucher_cancel": TRANSITION,
    "voucher_provider_approve": TRANSITION,
    "voucher_provider_reject": TRANSITION,
    "voucher_provider_suspend": TRANSITION,
    "voucher_provider_reinstate": TRANSITION,
    "topup_simulate": "fake gateway only; the signed event is deduplicated like Stripe's, a retry answers 409 topup_not_pending",
    # Reads and checks.
    "terminal_voucher_preview": "reads a voucher; changes nothing",
    "reconciliation_run_create": "a check; it records only issues not already open, so a retry adds nothing",
}
