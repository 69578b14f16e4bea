"""Reads of settlement runs: a program's runs with their totals, a run's lines, its CSV, a preview."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from vouchers.models import Program, Settlement, SettlementRun
from vouchers.settlement_runs import MerchantDue, SettlementPeriod, merchants_due, settlement_period
from vouchers.settlement_statement import STATEMENT_COLUMNS, spreadsheet_text, statement_lines
from wallet.models import Merchant
from wallet.selectors import merchant_payable_balance

RUN_CSV_COLUMNS = ["merchant_id", "merchant", *STATEMENT_COLUMNS]
_PAID_OUT = ~Q(settlements__status=Settlement.Status.FAILED)


def runs_of_program(program: Program) -> QuerySet[SettlementRun]:
    """Newest day first, each with its totals (a refused transfer's settlement is not counted as paid out)."""
    return SettlementRun.objects.filter(program=program).annotate(
        settlement_count=Count("settlements"),
        total_redeemed=Coalesce(Sum("settlements__redeemed_amount", filter=_PAID_OUT), 0),
        total_voided=Coalesce(Sum("settlements__voided_amount", filter=_PAID_OUT), 0),
        total_amount=Coalesce(Sum("settlements__amount", filter=_PAID_OUT), 0),
        total_paid=Coalesce(Sum("settlements__amount", filter=Q(settlements__status=Settlement.Status.PAID)), 0),
        pending_count=Count("settlements", filter=Q(settlements__status=Settlement.Status.PENDING_PAYOUT)),
        failed_count=Count("settlements", filter=Q(settlements__status=Settlement.Status.FAILED)),
        currency=F("program__funding_account__currency"),
    )


def run_of_program(program: Program, run_id: int) -> SettlementRun | None:
    return runs_of_program(program).filter(pk=run_id).first()


def settlements_of_run(run: SettlementRun) -> QuerySet[Settlement]:
    return run.settlements.select_related("merchant").order_by("merchant_id", "pk")


def settlement_of_run(run: SettlementRun, settlement_id: int) -> Settlement | None:
    return settlements_of_run(run).filter(pk=settlement_id).first()


def run_csv(run: SettlementRun) -> str:
    """Every merchant's statement lines, merchant by merchant, each line led by the merchant."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RUN_CSV_COLUMNS)
    for settlement in settlements_of_run(run):
        for line in statement_lines(settlement):
            writer.writerow([settlement.merchant_id, spreadsheet_text(settlement.merchant.name), *(line[c] for c in STATEMENT_COLUMNS)])
    return buffer.getvalue()


@dataclass(frozen=True)
class PreviewLine:
    merchant: Merchant
    redemption_count: int
    redeemed_amount: int
    voided_amount: int
    amount: int
    payable_balance: int
    held_back_reason: str


@dataclass(frozen=True)
class SettlementPreview:
    period: SettlementPeriod
    lines: list[PreviewLine]
    existing_run: SettlementRun | None
    currency: str

    @property
    def total_amount(self) -> int:
        return sum(line.amount for line in self.lines if not line.held_back_reason)


def settlement_preview(*, program: Program, business_date: date | None = None) -> SettlementPreview:
    """What a run for the day would pay each merchant now, writing nothing. When the day has a run
    already, a run would pay nothing more: `existing_run` says so."""
    period = settlement_period(program=program, business_date=business_date)
    existing = SettlementRun.objects.filter(program=program, business_date=period.business_date).first()
    dues: list[MerchantDue] = [] if existing else merchants_due(program=program, cutoff=period.cutoff)
    lines = [
        PreviewLine(
            merchant=due.merchant,
            redemption_count=len(due.redeemed) + len(due.clawed_back),
            redeemed_amount=due.redeemed_amount,
            voided_amount=due.voided_amount,
            amount=due.amount,
            payable_balance=merchant_payable_balance(due.merchant),
            held_back_reason=due.held_back_reason,
        )
        for due in dues
    ]
    return SettlementPreview(period=period, lines=lines, existing_run=existing, currency=program.funding_account.currency)
