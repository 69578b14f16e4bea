"""Daily settlement: each merchant's unsettled redemptions become one payout.

Ledger: merchant payable -> voucher payouts (a clearing account for money sent by
Stripe Connect transfer), one balanced transaction per settlement, posted under the
payable account's lock together with the settlement row and the marks on its
redemptions. The transfer itself happens after commit, keyed by the settlement's id,
so a crashed or repeated job pays each settlement once.

Idempotent: one settlement per merchant and business day (a unique constraint), and a
redemption belongs to one settlement, so running the job twice settles once.
"""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import audit_record
from core import clock, metrics
from core.money import format_dollars
from vouchers import numbers, payouts, webhook_events
from vouchers.models import Redemption, Settlement
from wallet import accounts, ledger
from wallet.gateway import GatewayDeclined, GatewayRejected, GatewayUnavailable
from wallet.models import Account, AccountKind, Merchant

log = structlog.get_logger("vouchers.settlement")

VOUCHER_PAYOUTS = "voucher_payouts"
STATEMENT_COLUMNS = [
    "settlement_id",
    "business_date",
    "line",
    "redemption_id",
    "redeemed_at",
    "voided_at",
    "program",
    "category",
    "vouchers",
    "amount_cents",
    "amount",
    "currency",
]
# A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def voucher_payouts_account() -> Account:
    return accounts.system_account(
        code=VOUCHER_PAYOUTS, kind=AccountKind.PROCESSOR_CLEARING, name="Voucher payouts to merchants (Stripe Connect)"
    )


def settlement_window(*, now: datetime, include_today: bool = False) -> tuple[date, datetime]:
    """(business date, cutoff): by default everything before today's local midnight, dated yesterday."""
    zone = ZoneInfo(settings.VOUCHER_TIME_ZONE)
    today = now.astimezone(zone).date()
    if include_today:  # everything up to and including now
        return today, now + timedelta(microseconds=1)
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    return today - timedelta(days=1), midnight


@metrics.batch_run("voucher_settlement")
def settle_all(*, include_today: bool = False, started_by: str = "schedule") -> list[Settlement]:
    """Settle every merchant with something to settle, then pay every settlement not yet paid.

    `started_by` says in the audit log who set the run going (the schedule, or an operator's command)."""
    business_date, cutoff = settlement_window(now=clock.now(), include_today=include_today)
    merchant_ids = set(
        Redemption.objects.filter(settlement__isnull=True, created_at__lt=cutoff).values_list("merchant_id", flat=True)
    ) | set(
        Redemption.objects.filter(settlement__isnull=False, voided_at__isnull=False, void_settlement__isnull=True).values_list(
            "merchant_id", flat=True
        )
    )
    created = []
    for merchant in Merchant.objects.filter(pk__in=merchant_ids).order_by("pk"):
        settlement = settle_merchant(merchant=merchant, business_date=business_date, cutoff=cutoff, started_by=started_by)
        if settlement is not None:
            created.append(settlement)
    for settlement_id in Settlement.objects.filter(status=Settlement.Status.PENDING_PAYOUT).values_list("pk", flat=True):
        settlement_pay(settlement_id=settlement_id)
    metrics.batch_items_add("voucher_settlement", len(created))
    return created


def settle_merchant(
    *, merchant: Merchant, business_date: date, cutoff: datetime, started_by: str = "schedule"
) -> Settlement | None:
    """Create (and book) the merchant's settlement for `business_date`, or None if there is
    nothing to pay, no payout destination, or it already exists."""
    destination = payouts.destination_for(merchant)
    if destination is None:
        log.warning("voucher_settlement_no_destination", merchant_id=merchant.pk)
        return None
    payable = accounts.merchant_payable(merchant)
    clearing = voucher_payouts_account()
    try:
        with transaction.atomic(durable=True):
            locked = ledger.lock_accounts([payable.pk, clearing.pk])
            if Settlement.objects.filter(merchant=merchant, business_date=business_date).exists():
                return None
            redeemed = list(
                Redemption.objects.select_for_update()
                .filter(merchant=merchant, settlement__isnull=True, created_at__lt=cutoff)
                .select_related("program")
                .order_by("pk")
            )
            clawed_back = list(
                Redemption.objects.select_for_update()
                .filter(merchant=merchant, settlement__isnull=False, voided_at__isnull=False, void_settlement__isnull=True)
                .select_related("program")
                .order_by("pk")
            )
            paid_for = sum(r.amount for r in redeemed if r.voided_at is None)
            taken_back = sum(r.amount for r in clawed_back)
            amount = paid_for - taken_back
            if amount <= 0:
                return None  # nothing owed (or the merchant owes): carried to a later day
            posted = ledger.post_locked(
                accounts=locked,
                kind="voucher_settlement",
                reference=f"voucher_settlement:{merchant.pk}:{business_date.isoformat()}",
                legs=[ledger.Leg(payable.pk, -amount), ledger.Leg(clearing.pk, amount)],
                actor="system",
                memo=f"Voucher settlement for {merchant.name}, {business_date.isoformat()}",
                metadata={"merchant_id": merchant.pk, "business_date": business_date.isoformat()},
            )
            settlement = Settlement.objects.create(
                merchant=merchant,
                business_date=business_date,
                cutoff_at=cutoff,
                redeemed_amount=paid_for,
                voided_amount=taken_back,
                amount=amount,
                currency=payable.currency,
                transaction=posted,
                destination=destination,
                statement_csv="",
            )
            for redemption in redeemed:
                redemption.settlement = settlement
                if redemption.voided_at is not None:  # taken and voided before anyone was paid: nets to nothing
                    redemption.void_settlement = settlement
                redemption.save(update_fields=["settlement", "void_settlement"])
            Redemption.objects.filter(pk__in=[r.pk for r in clawed_back]).update(void_settlement=settlement)
            settlement.statement_csv = statement_csv(settlement, redeemed, clawed_back)
            settlement.save(update_fields=["statement_csv"])
            audit_record(
                action="voucher_settlement.create",
                object_type="vouchers.settlement",
                object_id=settlement.pk,
                after={"status": settlement.status, "amount": amount, "business_date": business_date},
                details={
                    "merchant_id": merchant.pk,
                    "transaction_id": posted.pk,
                    "redemption_ids": [r.pk for r in redeemed],
                    "clawed_back_redemption_ids": [r.pk for r in clawed_back],
                    "started_by": started_by,
                },
            )
            return settlement
    except IntegrityError:  # a concurrent run made it first
        return None


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
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
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


# --- Statement ---------------------------------------------------------------------


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def statement_csv(settlement: Settlement, redeemed: list[Redemption], clawed_back: list[Redemption]) -> str:
    """The merchant's statement: one line per redemption paid, voided or taken back; amounts sum to the payout."""
    zone = ZoneInfo(settings.VOUCHER_TIME_ZONE)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    lines = [("redemption" if r.voided_at is None else "redemption_voided", r, r.amount if r.voided_at is None else 0) for r in redeemed]
    lines += [("void", r, -r.amount) for r in clawed_back]
    vouchers_of = _voucher_numbers([r.pk for _, r, _ in lines])
    for kind, redemption, amount in lines:
        writer.writerow(
            [
                settlement.pk,
                settlement.business_date.isoformat(),
                kind,
                redemption.pk,
                redemption.created_at.astimezone(zone).isoformat(timespec="seconds"),
                redemption.voided_at.astimezone(zone).isoformat(timespec="seconds") if redemption.voided_at else "",
                _text(redemption.program.name),
                redemption.category,
                " ".join(vouchers_of.get(redemption.pk, [])),
                amount,
                format_dollars(amount),
                settlement.currency,
            ]
        )
    return buffer.getvalue()


def _voucher_numbers(redemption_ids: list[int]) -> dict[int, list[str]]:
    from vouchers.models import RedemptionLine

    found: dict[int, list[str]] = {}
    for redemption_id, number in (
        RedemptionLine.objects.filter(redemption_id__in=redemption_ids).order_by("pk").values_list("redemption_id", "voucher__number")
    ):
        found.setdefault(redemption_id, []).append(numbers.masked(number))
    return found
