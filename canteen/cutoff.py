"""At each school's cut-off: post the day's holds, then tell the kitchen. Once per school and day.

The deadline itself is enforced when orders arrive; this run only settles money
and sends notices, and is safe to run any number of times.
"""

from datetime import date, timedelta

import structlog
from django.db import IntegrityError, transaction

from canteen import calendar, webhook_events
from canteen.models import CanteenSettings, CutoffRun, Order, OrderStatus
from core import clock, metrics, school_time
from core.notifications import notify
from guardians.models import StaffRole
from wallet import accounts, ledger
from wallet.models import HoldStatus

log = structlog.get_logger("canteen.cutoff")


@metrics.batch_run("canteen_cutoff")
def cutoff_run(*, school, service_date: date) -> CutoffRun | None:
    """Post every placed order's hold for the day; notify canteen staff the first time it completes.

    Returns None when the cut-off has not passed yet or it is not a service day.
    """
    settings = CanteenSettings.objects.select_related("merchant").filter(school=school).first()
    if settings is None or not calendar.is_service_day(school, settings, service_date):
        return None
    if clock.now() < calendar.cutoff_instant(school, service_date):
        return None
    try:
        with transaction.atomic():
            run, _ = CutoffRun.objects.get_or_create(school=school, service_date=service_date)
    except IntegrityError:
        run = CutoffRun.objects.get(school=school, service_date=service_date)

    payable = accounts.merchant_payable(settings.merchant)
    pending = _holds_to_post(school, service_date).select_related("hold", "placed_by")
    posted = 0
    for order in pending:
        wallet = accounts.guardian_wallet(order.placed_by)
        with transaction.atomic(durable=True):
            order = Order.objects.select_for_update().get(pk=order.pk)
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
        _notify_kitchen(school, service_date)
        log.info("canteen_cutoff_done", school_id=school.pk, service_date=str(service_date), orders_posted=posted)
    return run


def due_cutoffs() -> list[tuple]:
    """(school, day) pairs whose cut-off has passed without a finished run, or with a hold still to post:
    today, yesterday in case of downtime, and any earlier day whose holds are still pending.

    An order judged just before the cut-off can commit just after the run read the day's orders; its
    hold is posted by the next run instead of lapsing unpaid. After an outage of several days the holds
    of the days missed (they last HOLD_GRACE past the cut-off) are posted too: the orders were served.
    """
    due = []
    for settings in CanteenSettings.objects.select_related("school"):
        school = settings.school
        today = school_time.school_today(school)
        missed = _holds_to_post(school).filter(service_date__lt=today - timedelta(days=1))
        due.extend((school, day) for day in sorted(set(missed.values_list("service_date", flat=True))))
        for day in (today - timedelta(days=1), today):
            if clock.now() < calendar.cutoff_instant(school, day) or not calendar.is_service_day(school, settings, day):
                continue
            finished = CutoffRun.objects.filter(school=school, service_date=day, finished_at__isnull=False).exists()
            if not finished or _holds_to_post(school, day).exists():
                due.append((school, day))
    return due


def _holds_to_post(school, service_date: date | None = None):
    """Placed orders whose hold is still pending (a hold released after HOLD_GRACE cannot be posted)."""
    pending = Order.objects.filter(
        school=school, status=OrderStatus.PLACED, hold__status=HoldStatus.PENDING, payment__isnull=True
    )
    return pending if service_date is None else pending.filter(service_date=service_date)


def _notify_kitchen(school, service_date: date) -> None:
    staff_users = [member.user for member in school.staff.select_related("user") if member.has_role(StaffRole.CANTEEN, StaffRole.ADMIN)]
    count = Order.objects.filter(school=school, service_date=service_date, status=OrderStatus.PLACED).count()
    notify(
        users=staff_users,
        kind="canteen_prep_list",
        title=f"Prep list ready: {count} orders for {service_date:%a %d %b}",
        body=f"Orders for {service_date:%A %d %B} have closed. Open the prep list and labels in Tuckbox.",
        data={"school_id": school.pk, "service_date": service_date.isoformat(), "orders": count},
        dedupe_key=f"prep_list:{school.pk}:{service_date.isoformat()}",
    )
