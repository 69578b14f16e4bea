"""Settlement runs: a program's merchants paid for its redemptions up to the end of a local day.

One service for everyone who settles: the nightly job, `manage.py vouchers_settle` and a program
administrator over HTTP. Invariants:

- one run per program and business day (a unique constraint), written in one transaction with
  its settlements, so a run that exists is complete and asking again pays nothing more;
- concurrent runs of a program queue on the program's row (FOR NO KEY UPDATE: redemptions, which
  only reference the program, are not held up), with a lock timeout that answers
  `settlement_in_progress` instead of waiting for ever;
- each merchant's payable and the payouts clearing account are locked (primary-key order, as
  every ledger writer) before the redemptions, and a redemption belongs to one settlement: each
  redemption is paid once whatever races;
- per merchant, one balanced ledger transaction: payable -> voucher payouts, for the redemptions
  paid less the voids of redemptions paid before. Nothing owed, or no payout destination: the
  merchant waits for a later run;
- the period is judged in the program's time zone at the moment of the request.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg.errors
import structlog
from django.db import OperationalError, connection, transaction

from audit.services import audit_record
from core import clock
from core.jobs import enqueue_after_commit
from core.locks import lock_objects, lock_one
from vouchers import payouts
from vouchers.errors import SettlementInProgress, SettlementPeriodOpen
from vouchers.models import Program, Redemption, Settlement, SettlementRun
from vouchers.settlement_statement import statement_csv
from wallet import accounts, ledger
from wallet.models import Merchant

log = structlog.get_logger("vouchers.settlement_runs")

# A run of many merchants takes a few seconds; a caller waiting longer than this is told to retry.
LOCK_TIMEOUT = "15s"


@dataclass(frozen=True)
class SettlementPeriod:
    business_date: date
    cutoff: datetime
    time_zone: str


@dataclass(frozen=True)
class MerchantDue:
    """What one merchant is owed for one program's redemptions before the cutoff."""

    merchant: Merchant
    redeemed: list[Redemption]  # not yet settled; those voided before payment net to nothing
    clawed_back: list[Redemption]  # paid by an earlier settlement, voided since
    destination: str | None

    @property
    def redeemed_amount(self) -> int:
        return sum(r.amount for r in self.redeemed if r.voided_at is None)

    @property
    def voided_amount(self) -> int:
        return sum(r.amount for r in self.clawed_back)

    @property
    def amount(self) -> int:
        return self.redeemed_amount - self.voided_amount

    @property
    def held_back_reason(self) -> str:
        """Why this merchant is not paid by a run now ("" when it is)."""
        if self.amount <= 0:
            return "nothing_owed"  # or the merchant owes: netted by a later run
        if self.destination is None:
            return "no_payout_destination"
        return ""


def settlement_period(*, program: Program, business_date: date | None = None, include_today: bool = False) -> SettlementPeriod:
    """The day to settle and its cutoff, in the program's zone now. By default yesterday; a day that has
    not ended is refused. `include_today` (the demo command) settles up to this instant, dated today."""
    now = clock.now()
    zone = ZoneInfo(program.time_zone)
    today = now.astimezone(zone).date()
    if include_today:
        return SettlementPeriod(business_date=today, cutoff=now + timedelta(microseconds=1), time_zone=program.time_zone)
    day = business_date or today - timedelta(days=1)
    if day >= today:
        raise SettlementPeriodOpen(
            f"{day.isoformat()} has not ended yet in {program.time_zone} (today is {today.isoformat()} there).",
            business_date=day.isoformat(),
            time_zone=program.time_zone,
        )
    return SettlementPeriod(
        business_date=day, cutoff=datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone), time_zone=program.time_zone
    )


def merchants_due(*, program: Program, cutoff: datetime, merchant_ids=None, lock: bool = False) -> list[MerchantDue]:
    """Every merchant with redemptions of `program` to settle or take back, by merchant id. With
    `lock`, inside a transaction: the redemption rows are locked (the caller holds the payables)."""
    unsettled = Redemption.objects.filter(program=program, settlement__isnull=True, created_at__lt=cutoff)
    voided_since = Redemption.objects.filter(
        program=program, settlement__isnull=False, voided_at__isnull=False, void_settlement__isnull=True
    )
    if merchant_ids is not None:
        unsettled, voided_since = unsettled.filter(merchant_id__in=merchant_ids), voided_since.filter(merchant_id__in=merchant_ids)

    def in_pk_order(redemptions):
        redemptions = redemptions.select_related("program", "merchant")
        return lock_objects(redemptions) if lock else redemptions.order_by("pk")

    by_merchant: dict[int, tuple[list, list]] = {}
    for redemption in in_pk_order(unsettled):
        by_merchant.setdefault(redemption.merchant_id, ([], []))[0].append(redemption)
    for redemption in in_pk_order(voided_since):
        by_merchant.setdefault(redemption.merchant_id, ([], []))[1].append(redemption)
    dues = []
    for merchant_id in sorted(by_merchant):
        redeemed, clawed_back = by_merchant[merchant_id]
        merchant = (redeemed or clawed_back)[0].merchant
        dues.append(MerchantDue(merchant, redeemed, clawed_back, payouts.destination_for(merchant)))
    return dues


def settlement_run_execute(
    *, program: Program, period: SettlementPeriod, started_by: str, user=None, pay_after_commit: bool = False
) -> tuple[SettlementRun, bool]:
    """(the run of `program` for the period's day, whether this call made it). Made once: a second call,
    concurrent or later, returns the first run untouched. `pay_after_commit` queues the transfers."""
    candidates = [due.merchant for due in merchants_due(program=program, cutoff=period.cutoff) if not due.held_back_reason]
    payables = {merchant.pk: accounts.merchant_payable(merchant) for merchant in candidates}
    clearing = payouts.voucher_payouts_account()
    try:
        with transaction.atomic(durable=True):
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            lock_one(Program.objects.filter(pk=program.pk).values_list("pk", flat=True))
            existing = SettlementRun.objects.filter(program=program, business_date=period.business_date).first()
            if existing is not None:
                return existing, False
            run = SettlementRun.objects.create(
                program=program,
                business_date=period.business_date,
                cutoff_at=period.cutoff,
                time_zone=period.time_zone,
                started_by=started_by[:120],
                started_by_user=user,
            )
            if payables:
                locked = ledger.lock_accounts([*(p.pk for p in payables.values()), clearing.pk])
                for due in merchants_due(program=program, cutoff=period.cutoff, merchant_ids=list(payables), lock=True):
                    if not due.held_back_reason:  # decided again under the locks
                        _settle_locked(run=run, due=due, locked=locked, payable=payables[due.merchant.pk], clearing=clearing, user=user)
            if pay_after_commit:
                enqueue_after_commit("vouchers.tasks.settlement_run_pay", run.pk)
            return run, True
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
            raise SettlementInProgress() from exc
        raise


def _settle_locked(*, run: SettlementRun, due: MerchantDue, locked, payable, clearing, user) -> Settlement:
    merchant, amount = due.merchant, due.amount
    posted = ledger.post_locked(
        accounts=locked,
        kind="voucher_settlement",
        reference=f"voucher_settlement:{run.pk}:{merchant.pk}",
        legs=[ledger.Leg(payable.pk, -amount), ledger.Leg(clearing.pk, amount)],
        actor="system" if user is None else f"user:{user.pk}",
        memo=f"Voucher settlement for {merchant.name}, {run.program.name}, {run.business_date.isoformat()}",
        metadata={"merchant_id": merchant.pk, "program_id": run.program_id, "run_id": run.pk, "business_date": run.business_date.isoformat()},
    )
    settlement = Settlement.objects.create(
        merchant=merchant,
        program=run.program,
        run=run,
        business_date=run.business_date,
        cutoff_at=run.cutoff_at,
        redeemed_amount=due.redeemed_amount,
        voided_amount=due.voided_amount,
        amount=amount,
        currency=payable.currency,
        transaction=posted,
        destination=due.destination,
        statement_csv="",
    )
    voided_unpaid = [r.pk for r in due.redeemed if r.voided_at is not None]  # taken and voided before payment: nets to nothing
    Redemption.objects.filter(pk__in=[r.pk for r in due.redeemed]).update(settlement=settlement)
    Redemption.objects.filter(pk__in=voided_unpaid + [r.pk for r in due.clawed_back]).update(void_settlement=settlement)
    settlement.statement_csv = statement_csv(settlement, due.redeemed, due.clawed_back, zone=ZoneInfo(run.time_zone))
    settlement.save(update_fields=["statement_csv"])
    audit_record(
        action="voucher_settlement.create",
        object_type="vouchers.settlement",
        object_id=settlement.pk,
        program_id=run.program_id,
        after={"status": settlement.status, "amount": amount, "business_date": run.business_date},
        details={
            "merchant_id": merchant.pk,
            "run_id": run.pk,
            "transaction_id": posted.pk,
            "redemption_ids": [r.pk for r in due.redeemed],
            "clawed_back_redemption_ids": [r.pk for r in due.clawed_back],
            "started_by": run.started_by,
        },
        actor=user,
    )
    return settlement
