"""Shared pieces of the voucher views (split by caller into vouchers_*.py): tags, examples,
tenant look-ups and the failed-look-up throttle for terminals."""

import structlog
from django.conf import settings
from django.http import Http404
from rest_framework.throttling import BaseThrottle

from api.errors import VoucherLookupThrottled
from api.throttles import CACHE_ERRORS
from core.counters import counter_add_one, counter_value
from vouchers import selectors
from vouchers.errors import LookupFailure

log = structlog.get_logger("api.views.vouchers")

TAG_PROGRAMS = "Voucher programs"
TAG_HOLDERS = "Vouchers"
TAG_TERMINAL = "Voucher redemption"
TAG_PROVIDERS = "Voucher providers"
TAG_REPORTS = "Voucher reports"

# Refusal codes a redemption can answer with, by status (and the preview reports as `refusal_code`).
LOOKUP_CODES = {
    404: ["voucher_not_found"],
    422: ["voucher_token_invalid", "voucher_code_expired", "date_of_birth_mismatch", "date_of_birth_required", "voucher_number_invalid"],
    429: ["voucher_lookup_throttled"],
}
STATE_CODES = ["voucher_already_redeemed", "voucher_expired", "voucher_revoked", "voucher_cancelled"]
APPROVAL_CODES = ["merchant_not_approved", "merchant_approval_suspended", "merchant_approval_expired"]
RULE_CODES = [
    "category_not_allowed",
    "category_required",
    "weekday_not_allowed",
    "voucher_tied_to_other_provider",
    "provider_already_used_this_term",
    "amount_exceeds_remaining",
    "stacking_not_allowed",
    "stack_mismatch",
    "amount_out_of_range",
]
ELIGIBILITY_CODES = [
    "program_closed",
    "no_open_issue_window",
    "wrong_beneficiary_kind",
    "not_eligible_age",
    "not_enrolled",
    "not_resident",
    "means_test_not_met",
    "date_of_birth_required",
    "date_of_birth_mismatch",
]

PROGRAM_BRIEF = {"id": 1, "name": "Active Kids", "code": "active-kids"}
VOUCHER_EXAMPLE = {
    "id": 41,
    "number": "7KQ2M-9XD4R-TA0B5",
    "program": PROGRAM_BRIEF,
    "issue_window": "Calendar year",
    "beneficiary": {"kind": "child", "student_id": 7, "first_name": "Mia"},
    "face_value": 10000,
    "remaining_value": 10000,
    "forfeited_value": 0,
    "state": "issued",
    "categories": ["sport"],
    "use_rule": "single_use",
    "issued_on": "2026-03-02",
    "expires_on": "2026-12-31",
    "time_zone": "Australia/Sydney",
}
REDEMPTION_EXAMPLE = {
    "redemption_id": 88,
    "program": PROGRAM_BRIEF,
    "terminal_id": 3,
    "category": "sport",
    "amount": 8500,
    "description": "Term 2 swimming",
    "created_at": "2026-04-21T06:10:00Z",
    "void_until": "2026-04-22T06:10:00Z",
    "voided_at": None,
    "settlement_id": None,
    "lines": [{"voucher_id": 41, "number": "7KQ2M-9XD4R-TA0B5", "amount": 8500, "forfeited_amount": 1500, "remaining_value": 0}],
}


def administered_program(request, program_id: int):
    """A program the caller administers, or 404 (someone else's program might as well not exist)."""
    program = selectors.programs_administered_by(request.user).filter(pk=program_id).first()
    if program is None:
        raise Http404
    return program


# --- Failed look-ups, per terminal ---------------------------------------------------
#
# Only failures count (a wrong number, a forged or stale code, a wrong date of birth),
# in Redis (core/counters.py), so a cashier scanning all day is never slowed while guessing
# numbers stops after VOUCHER_LOOKUP_FAILURES_PER_MINUTE tries. The window starts at
# the first failure and lasts a minute; while it is full, every look-up of the
# terminal is refused. The refusal is a DRF throttle, so it happens before the
# Idempotency-Key is claimed: a retry with the same key after the minute runs.

LOOKUP_WINDOW_SECONDS = 60


def _failures_key(terminal) -> str:
    return f"voucher_lookup_failures:terminal:{terminal.pk}"


class VoucherLookupThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        terminal = getattr(request, "auth_terminal", None)
        if terminal is None:
            return True
        try:
            return counter_value(_failures_key(terminal)) < settings.VOUCHER_LOOKUP_FAILURES_PER_MINUTE
        except CACHE_ERRORS as exc:
            # Fails open on a money path: a guess still needs a voucher number plus a code signed
            # with our Ed25519 key (or the holder's current TOTP) and the date of birth, and each
            # look-up is an authenticated terminal's request, logged with its terminal id.
            log.error("voucher_lookup_counter_unavailable", terminal_id=terminal.pk, error=exc.__class__.__name__)
            return True

    def wait(self) -> int:
        return LOOKUP_WINDOW_SECONDS


class LookupThrottledMixin:
    """For views that look vouchers up: throttled (on POST) by the terminal's failed look-ups."""

    def get_throttles(self):
        return [VoucherLookupThrottle()] if self.request.method == "POST" else []

    def throttled(self, request, wait):
        raise VoucherLookupThrottled(wait=wait)


def guarded_lookup(request, work):
    """Run `work` (which looks vouchers up), counting its look-up failures against the terminal."""
    try:
        return work()
    except LookupFailure:
        try:
            counter_add_one(_failures_key(request.auth_terminal), window_seconds=LOOKUP_WINDOW_SECONDS)
        except CACHE_ERRORS as exc:  # the refusal still stands; only the count is lost
            log.error("voucher_lookup_counter_unavailable", terminal_id=request.auth_terminal.pk, error=exc.__class__.__name__)
        raise
