"""Run voucher settlement now: what the daily Celery job does, for operators and the demo."""

import getpass

from django.core.management.base import BaseCommand

from core.money import format_dollars
from vouchers.models import Settlement
from vouchers.settlement import settle_all


class Command(BaseCommand):
    help = "Settle each program's voucher redemptions up to last midnight in its time zone and pay the merchants."

    def add_arguments(self, parser):
        parser.add_argument(
            "--include-today",
            action="store_true",
            help="Settle up to now, dated today (for the demo; the nightly job then settles the rest of today tomorrow).",
        )

    def handle(self, *args, include_today=False, **options):
        created = settle_all(include_today=include_today, started_by=f"command:{_operator()}")
        for settlement in Settlement.objects.filter(pk__in=[s.pk for s in created]).select_related("merchant"):
            self.stdout.write(
                f"{settlement.merchant.name}: ${format_dollars(settlement.amount)} for {settlement.business_date} "
                f"({settlement.status}{', ' + settlement.transfer_id if settlement.transfer_id else ''})"
            )
        if not created:
            self.stdout.write("Nothing to settle.")


def _operator() -> str:
    """The operating-system account that ran the command: the audit log's best word for who."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
