"""At each service period's cut-off: post the period's holds for the day, then tell the kitchen.
Once per school, day and period (recess and lunch each have their own run).

The deadline itself is enforced when orders arrive; this run only settles money
and sends notices, and is safe to run any number of times.
"""

from datetime import date, timedelta

import structlog
from django.db import IntegrityError, transaction

from canteen import calendar, periods, webhook_events
from canteen.models import CanteenSettings, CutoffRun, Order, OrderStatus, ServicePeriod
from core import clock, metrics, school_time
from core.locks import lock_one
from core.notifications import notify
from guardians.models import StaffRole
from wallet import accounts, ledger
from wallet.models import HoldStatus

log = structlog.get_logger("canteen.cutoff")


@metrics.batch_run("canteen_cutoff")
def cutoff_run(*, school, service_date: date, period: ServicePeriod | None = None) -> CutoffRun | None:
    """Post every placed order's hold for the day and period (none: the default period); notify canteen
    staff the first time it completes.

    Returns None when the period's cut-off has not passed yet or it is not a service day.
    """
    settings = CanteenSettings.objects.select_related("merchant").filter(school=school).first()
    if settings is None or not calendar.is_service_day(school, settings, service_date):
        return None
    period = period or periods.default_period(school)
    if clock.now() < calendar.cutoff_instant(school, service_date, period):
        return None
    try:
        with transaction.atomic():
            run, _ = CutoffRun.objects.get_or_create(school=school, service_date=service_date, period=period)
    except IntegrityError:
        run = CutoffRun.objects.get(school=school, service_date=service_date, period=period)

    payable = accounts.merchant_payable(settings.merchant)
    pending = _holds_to_post(school, service_date, period).select_related("hold", "placed_by")
    posted = 0
    for order in pending:
        wallet = accounts.guardian_wallet(order.placed_by)
        with transaction.atomic(durable=True):
            order = lock_one(Order.objects.filter(pk=order.pk), key=True)  # payment, one-to-one, is set
            if order.status != OrderStatus.PLACED or order.payment_id is not None:
                continue
            locked = ledger.lock_accounts([wallet.pk, payable.pk])
            order.payment = ledger.hold_post_locked(accounts=locked, hold=order.hold, actor="system:cutoff")
            order.save(update_fields=["payment"])
            posted += 1
    metrics.batch_items_add("canteen_cutoff", posted)

    with transaction.atomic():  # the run finishes and says so together, once
        finished_now = CutoffRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=clock.now(), orders_posted=posted
        )
        run.refresh_from_db()
        if finished_now:
            webhook_events.orders_cut_off_publish(run=run)
    if finished_now:
        _notify_kitchen(school, service_date, period)
        log.info("canteen_cutoff_done", school_id=school.pk, service_date=str(service_date), period_id=period.pk, orders_posted=posted)
    return run


def due_cutoffs() -> list[tuple]:
    """(school, day, period) whose cut-off has passed without a finished run, or with a hold still to post:
    today, yesterday in case of downtime, and any earlier day whose holds are still pending.

    An order judged just before the cut-off can commit just after the run read the day's orders; its
    hold is posted by the next run instead of lapsing unpaid. After an outage of several days the holds
    of the days missed (they last HOLD_GRACE past the cut-off) are posted too: the orders were served.
    Periods come in the day's order (by cut-off); inactive ones still settle the orders they took.
    """
    due = []
    for settings in CanteenSettings.objects.select_related("school"):
        school = settings.school
        today = school_time.school_today(school)
        by_id = {period.pk: period for period in periods.periods_of(school)}
        missed = _holds_to_post(school).filter(service_date__lt=today - timedelta(days=1))
        missed_pairs = sorted(set(missed.values_list("service_date", "period__cutoff", "period_id")))
        due.extend((school, day, by_id[period_id]) for day, _, period_id in missed_pairs)
        for day in (today - timedelta(days=1), today):
            if not calendar.is_service_day(school, settings, day):
                continue
            for period in by_id.values():
                if clock.now() < calendar.cutoff_instant(school, day, period):
                    continue
                finished = CutoffRun.objects.filter(school=school, service_date=day, period=period, finished_at__isnull=False).exists()
                if (not finished and period.is_active) or _holds_to_post(school, day, period).exists():
                    due.append((school, day, period))
    return due


def _holds_to_post(school, service_date: date | None = None, period: ServicePeriod | None = None):
    """Placed orders whose hold is still pending (a hold released after HOLD_GRACE cannot be posted)."""
    pending = Order.objects.filter(
        school=school, status=OrderStatus.PLACED, hold__status=HoldStatus.PENDING, payment__isnull=True
    )
    if service_date is not None:
        pending = pending.filter(service_date=service_date)
    return pending if period is None else pending.filter(period=period)


def _notify_kitchen(school, service_date: date, period: ServicePeriod) -> None:
    staff_users = [member.user for member in school.staff.select_related("user") if member.has_role(StaffRole.CANTEEN, StaffRole.ADMIN)]
    count = Order.objects.filter(school=school, service_date=service_date, period=period, status=OrderStatus.PLACED).count()
    notify(
        users=staff_users,
        kind="canteen_prep_list",
        title=f"{period.name} prep list ready: {count} orders for {service_date:%a %d %b}",
        body=f"{period.name} orders for {service_date:%A %d %B} have closed. Open the {period.name.lower()} prep list and labels in Tuckbox.",
        data={"school_id": school.pk, "service_date": service_date.isoformat(), "period_id": period.pk, "period": period.name, "orders": count},
        dedupe_key=f"prep_list:{school.pk}:{service_date.isoformat()}:{period.pk}",
    )
