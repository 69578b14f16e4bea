"""The code a holder shows: rotating (the app) or printed (static, needs the date of birth)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from vouchers import rules, tokens
from vouchers.models import Voucher

ROTATING = "rotating"
PRINTED = "printed"
STYLES = (ROTATING, PRINTED)


@dataclass(frozen=True)
class ShownCode:
    payload: str
    style: str
    refresh_at: datetime | None
    valid_until: datetime | None


def code_for(*, voucher: Voucher, style: str, now: datetime) -> ShownCode:
    """Only a voucher that can still be spent gets a code (else the state's 409)."""
    rules.check_state(voucher, now)
    if style == PRINTED:
        return ShownCode(payload=tokens.printed_token(number=voucher.number), style=style, refresh_at=None, valid_until=None)
    step = tokens.time_step(now)
    return ShownCode(
        payload=tokens.app_token(number=voucher.number, secret_hex=voucher.totp_secret, now=now),
        style=ROTATING,
        refresh_at=tokens.step_start(step + 1),
        valid_until=tokens.step_start(step + 1 + settings.VOUCHER_CODE_SKEW_STEPS),
    )
