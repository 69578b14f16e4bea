"""Reminders to holders before a voucher with value left expires.

The job only sends notices; expiry itself is judged at each request. The dedupe key
makes the reminder once per voucher however often the job runs, and a voucher
issued inside the reminder horizon still gets one.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from core import clock
from core.money import format_dollars
from core.notifications import notify
from vouchers import numbers
from vouchers.models import LIVE_STATES, Voucher


def expiry_reminders_send() -> int:
    """Remind from VOUCHER_REMINDER_DAYS days before the last day (in days, as people count them)."""
    now = clock.now()
    horizon = clock.local_today(settings.VOUCHER_TIME_ZONE) + timedelta(days=settings.VOUCHER_REMINDER_DAYS)
    due = (
        Voucher.objects.filter(state__in=LIVE_STATES, remaining_value__gt=0, expires_at__gt=now, expires_on__lte=horizon)
        .select_related("program", "holder", "student", "beneficiary_user")
        .order_by("expires_at", "pk")
    )
    sent = 0
    for voucher in due.iterator(chunk_size=500):
        with transaction.atomic():
            sent += len(
                notify(
                    users=[voucher.holder],
                    kind="voucher_expiring",
                    title=f"${format_dollars(voucher.remaining_value)} of {voucher.beneficiary_first_name}'s "
                    f"{voucher.program.name} voucher expires on {voucher.expires_on:%d %b %Y}",
                    body=f"Voucher {numbers.formatted(voucher.number)}: use it with a participating provider before then.",
                    data={"voucher_id": voucher.pk, "expires_on": voucher.expires_on.isoformat()},
                    dedupe_key=f"voucher_expiring:{voucher.pk}",
                )
            )
    return sent
