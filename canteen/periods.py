"""Service periods (recess, lunch, ...): each with its own cut-off, menu and kitchen run.

Every school has one default period, created on first use with the school's canteen cut-off
(School.canteen_cutoff) and late window (CanteenSettings.late_cutoff): an order or menu item that
names no period belongs to it. The default period's times stay mirrored in those two fields, which
the settings API and older readers still use.
"""

from datetime import time
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from audit.services import audit_record, changed_fields, snapshot
from canteen import queries
from canteen.errors import DefaultPeriodRequired, PeriodInvalid, PeriodNameTaken, PeriodUnavailable
from canteen.models import CanteenSettings, ServicePeriod
from core import clock, school_time
from core.errors import NonexistentLocalTime
from core.locks import lock_one
from guardians.models import School

PERIOD_FIELDS = ("name", "cutoff", "late_cutoff", "is_active")


def default_period(school: School) -> ServicePeriod:
    """The school's default period, created with the school's cut-off the first time it is asked for."""
    period = queries.default_period(school.pk)
    if period is not None:
        return period
    late = CanteenSettings.objects.filter(school=school).values_list("late_cutoff", flat=True).first()
    try:
        with transaction.atomic():
            return ServicePeriod.objects.create(
                school=school,
                name=_free_default_name(school),
                cutoff=school.canteen_cutoff,
                late_cutoff=late if late is not None and late > school.canteen_cutoff else None,
                is_default=True,
            )
    except IntegrityError:  # created by a concurrent request first
        return ServicePeriod.objects.get(school=school, is_default=True)


def period_for_order(school: School, period_id: int | None) -> ServicePeriod:
    """The period an order is for: the one named (active, of this school), or the default."""
    if period_id is None:
        return default_period(school)
    period = ServicePeriod.objects.filter(school=school, pk=period_id, is_active=True).first()
    if period is None:
        raise PeriodUnavailable(period_id=period_id)
    return period


def period_of_school(school: School, period_id: int | None) -> ServicePeriod | None:
    """A period of this school, active or not (the kitchen still prints an inactive period's orders); None: none asked."""
    if period_id is None:
        return None
    period = ServicePeriod.objects.filter(school=school, pk=period_id).first()
    if period is None:
        raise PeriodUnavailable(period_id=period_id)
    return period


def periods_by_ids(school: School, period_ids: list[int]) -> list[ServicePeriod]:
    """The school's periods with these ids, or refuse the lot (a menu item's periods)."""
    found = list(ServicePeriod.objects.filter(school=school, pk__in=set(period_ids)).order_by("pk"))
    missing = sorted(set(period_ids) - {period.pk for period in found})
    if missing:
        raise PeriodUnavailable(period_ids=missing)
    return found


def periods_of(school: School) -> list[ServicePeriod]:
    """Every period of the school in the day's order (by cut-off), the default one included."""
    default_period(school)
    return list(ServicePeriod.objects.filter(school=school).order_by("cutoff", "id"))


def period_create(*, school: School, name: str, cutoff: time, late_cutoff: time | None = None, is_active: bool = True) -> ServicePeriod:
    default_period(school)  # the existing cut-off keeps its period before any other is added
    _check_times(school, cutoff, late_cutoff)
    try:
        with transaction.atomic():
            period = ServicePeriod.objects.create(school=school, name=name, cutoff=cutoff, late_cutoff=late_cutoff, is_active=is_active)
            audit_record(
                action="canteen.period_create",
                object_type="canteen.service_period",
                object_id=period.pk,
                school_id=school.pk,
                after=snapshot(period, PERIOD_FIELDS),
            )
    except IntegrityError:
        raise PeriodNameTaken(name=name) from None
    return period


def period_update(*, period: ServicePeriod, **fields) -> ServicePeriod:
    """Change a period. Placed orders keep their period; a new cut-off applies to every day not yet cut off.

    The default period's cut-off and late window are mirrored to the school's settings."""
    changed = [name for name in PERIOD_FIELDS if name in fields]
    try:
        with transaction.atomic():
            # FOR UPDATE: the name, unique in the school, may change.
            period = lock_one(ServicePeriod.objects.select_related("school").filter(pk=period.pk), key=True)
            before = snapshot(period, changed)
            for name in changed:
                setattr(period, name, fields[name])
            if period.is_default and not period.is_active:
                raise DefaultPeriodRequired()
            _check_times(period.school, period.cutoff, period.late_cutoff)
            period.updated_at = clock.now()
            period.save(update_fields=[*changed, "updated_at"])
            if period.is_default:
                _mirror_default(period)
            before, after = changed_fields(before, snapshot(period, changed))
            audit_record(
                action="canteen.period_update",
                object_type="canteen.service_period",
                object_id=period.pk,
                school_id=period.school_id,
                before=before,
                after=after,
            )
    except IntegrityError:
        raise PeriodNameTaken(name=fields.get("name")) from None
    return period


def default_period_times_set(*, school: School, cutoff: time | None = None, late_cutoff: time | None = None, set_late: bool = False) -> None:
    """The settings API's cut-off and late window: the default period's. Inside the caller's transaction."""
    period = lock_one(ServicePeriod.objects.filter(pk=default_period(school).pk))
    period.cutoff = cutoff if cutoff is not None else period.cutoff
    period.late_cutoff = late_cutoff if set_late else period.late_cutoff
    _check_times(school, period.cutoff, period.late_cutoff)
    period.updated_at = clock.now()
    period.save(update_fields=["cutoff", "late_cutoff", "updated_at"])


def check_time_exists(school: School, moment: time, field: str) -> None:
    """A cut-off is a wall-clock time every service day: one the clocks skip on a daylight-saving
    day (02:30 on a spring-forward Sunday in Sydney) is refused, not moved."""
    missing = school_time.first_nonexistent_day(ZoneInfo(school.time_zone), moment, start=school_time.school_today(school))
    if missing is not None:
        raise NonexistentLocalTime(
            f"{moment:%H:%M} does not exist in {school.time_zone} on {missing.isoformat()} (the clocks jump over it).",
            field=field,
            local_time=f"{missing.isoformat()}T{moment.isoformat()}",
            time_zone=school.time_zone,
        )


def _check_times(school: School, cutoff: time, late_cutoff: time | None) -> None:
    check_time_exists(school, cutoff, "cutoff")
    if late_cutoff is not None:
        check_time_exists(school, late_cutoff, "late_cutoff")
        if late_cutoff <= cutoff:
            raise PeriodInvalid("The late window must close after the period's cut-off.", field="late_cutoff")


def _mirror_default(period: ServicePeriod) -> None:
    School.objects.filter(pk=period.school_id).update(canteen_cutoff=period.cutoff)
    CanteenSettings.objects.filter(school_id=period.school_id).update(late_cutoff=period.late_cutoff)


def _free_default_name(school: School) -> str:
    taken = set(ServicePeriod.objects.filter(school=school).values_list("name", flat=True))
    return next(name for name in ("Lunch", "Lunch (default)", "Default") if name not in taken)
