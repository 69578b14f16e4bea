"""Daily settlement: each program's merchants paid for the program's redemptions of the day before.

The nightly job and `manage.py vouchers_settle` run each program's settlement through
vouchers/settlement_runs.py, the service a program administrator calls over HTTP too: one run
per program and local business day, each merchant's redemptions booked payable -> voucher
payouts (a clearing account for money sent by Stripe Connect transfer) in one balanced
transaction. The transfer itself happens after commit, keyed by the settlement's id, so a
crashed or repeated job pays each settlement once.
"""

import structlog
from django.db import transaction

from core import clock, metrics
from core.locks import lock_one
from vouchers import payouts, webhook_events
from vouchers.errors import SettlementInProgress
from vouchers.models import Program, Redemption, Settlement, SettlementRun
from vouchers.payouts import VOUCHER_PAYOUTS, voucher_payouts_account
from vouchers.settlement_runs import merchants_due, settlement_period, settlement_run_execute
from vouchers.settlement_statement import STATEMENT_COLUMNS, statement_csv
from wallet import accounts, ledger
from wallet.gateway import GatewayDeclined, GatewayRejected, GatewayUnavailable

log = structlog.get_logger("vouchers.settlement")

__all__ = [
    "STATEMENT_COLUMNS",
    "VOUCHER_PAYOUTS",
    "settle_all",
    "settlement_fail",
    "settlement_pay",
    "settlement_run_pay",
    "statement_csv",
    "voucher_payouts_account",
]


@metrics.batch_run("voucher_settlement")
def settle_all(*, include_today: bool = False, started_by: str = "schedule") -> list[Settlement]:
    """Run the settlement of every program with something to pay, then pay every settlement not yet paid.

    Each program's day is its own zone's yesterday (today up to now with `include_today`). `started_by`
    says in the audit log who set the run going (the schedule, or an operator's command)."""
    program_ids = set(Redemption.objects.filter(settlement__isnull=True).values_list("program_id", flat=True)) | set(
        Redemption.objects.filter(settlement__isnull=False, voided_at__isnull=False, void_settlement__isnull=True).values_list(
            "program_id", flat=True
        )
    )
    created: list[Settlement] = []
    for program in Program.objects.filter(pk__in=program_ids).order_by("pk"):
        period = settlement_period(program=program, include_today=include_today)
        dues = merchants_due(program=program, cutoff=period.cutoff)
        for due in dues:
            if due.held_back_reason == "no_payout_destination":
                log.warning("voucher_settlement_no_destination", merchant_id=due.merchant.pk, program_id=program.pk)
        if not any(not due.held_back_reason for due in dues):
            continue  # nothing to pay: no empty run is recorded for the schedule
        try:
            run, made = settlement_run_execute(program=program, period=period, started_by=started_by)
        except SettlementInProgress:  # someone else is making this run: it is theirs to finish
            log.warning("voucher_settlement_run_busy", program_id=program.pk, business_date=period.business_date.isoformat())
            continue
        if made:
            created.extend(run.settlements.order_by("pk"))
    for settlement_id in Settlement.objects.filter(status=Settlement.Status.PENDING_PAYOUT).values_list("pk", flat=True):
        settlement_pay(settlement_id=settlement_id)
    metrics.batch_items_add("voucher_settlement", len(created))
    return created


def settlement_run_pay(*, run_id: int) -> SettlementRun:
    """Transfer every settlement of the run not yet paid. Safe to run twice."""
    run = SettlementRun.objects.get(pk=run_id)
    for settlement_id in run.settlements.filter(status=Settlement.Status.PENDING_PAYOUT).order_by("pk").values_list("pk", flat=True):
        settlement_pay(settlement_id=settlement_id)
    return run


def settlement_pay(*, settlement_id: int) -> Settlement:
    """Transfer a booked settlement. Unavailable gateway: left pending for the next run.
    Refused transfer: the booking is reversed and its redemptions wait for a later settlement."""
    settlement = Settlement.objects.get(pk=settlement_id)
    if settlement.status != Settlement.Status.PENDING_PAYOUT:
        return settlement
    try:
        transfer = payouts.transfer(
            settlement_id=settlement.pk, merchant_id=settlement.merchant_id, amount=settlement.amount, destination=settlement.destination
        )
    except GatewayUnavailable as exc:
        Settlement.objects.filter(pk=settlement.pk).update(last_error=str(exc)[:300])
        log.warning("voucher_payout_retry_later", settlement_id=settlement.pk, error=str(exc))
        return Settlement.objects.get(pk=settlement.pk)
    except (GatewayRejected, GatewayDeclined) as exc:
        return settlement_fail(settlement_id=settlement.pk, reason=str(exc))
    with transaction.atomic():  # paid and announced together, once
        paid = Settlement.objects.filter(pk=settlement.pk, status=Settlement.Status.PENDING_PAYOUT).update(
            status=Settlement.Status.PAID, transfer_id=transfer.id, paid_at=clock.now(), last_error=""
        )
        if paid:
            webhook_events.settlement_paid_publish(settlement=Settlement.objects.get(pk=settlement.pk))
    return Settlement.objects.get(pk=settlement.pk)


def settlement_fail(*, settlement_id: int, reason: str) -> Settlement:
    settlement = Settlement.objects.select_related("merchant").get(pk=settlement_id)
    payable = accounts.merchant_payable(settlement.merchant)
    clearing = voucher_payouts_account()
    with transaction.atomic(durable=True):
        locked = ledger.lock_accounts([payable.pk, clearing.pk])
        settlement = lock_one(Settlement.objects.filter(pk=settlement_id), key=True)  # reversal_transaction, one-to-one, is set
        if settlement.status != Settlement.Status.PENDING_PAYOUT:
            return settlement
        reversal = ledger.reverse_locked(
            accounts=locked,
            original=settlement.transaction,
            reference=f"voucher_settlement_reversal:{settlement.pk}",
            actor="system",
            memo=f"Payout refused: {reason}"[:300],
        )
        Redemption.objects.filter(settlement=settlement).update(settlement=None, void_settlement=None)
        Redemption.objects.filter(void_settlement=settlement).update(void_settlement=None)
        settlement.status = Settlement.Status.FAILED
        settlement.reversal_transaction = reversal
        settlement.last_error = reason[:300]
        settlement.save(update_fields=["status", "reversal_transaction", "last_error"])
    log.error("voucher_payout_refused", settlement_id=settlement.pk, reason=reason)
    return settlement
