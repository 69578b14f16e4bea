"""A program's settlement run: one per program and business day, whoever starts it."""

from django.db import models

from core import clock
from guardians.models import User
from vouchers.models.programs import Program


class SettlementRun(models.Model):
    """Pays every merchant of one program for its redemptions before `cutoff_at` (the local
    midnight that ends `business_date` in `time_zone`, the program's zone when it ran).

    Written in the same transaction as its settlements, so a run that exists is complete: a
    second request for the same program and day finds it and pays nothing more.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="settlement_runs")
    business_date = models.DateField(help_text="The last local day whose redemptions it covers.")
    cutoff_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    started_by = models.CharField(max_length=120, help_text="schedule, command:<operator> or api.")
    started_by_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "business_date"], name="one_settlement_run_per_program_day"),
        ]
