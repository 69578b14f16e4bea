"""A school's canteen set-up, and guardians' reminder choice."""

from django.db import transaction

from audit.services import audit_record, changed_fields, snapshot
from canteen import periods, queries
from canteen.errors import CanteenNotConfigured
from canteen.models import CanteenSettings, ReminderOptIn
from guardians.models import Guardian, School

SETTINGS_FIELDS = ("late_cutoff", "max_weeks_ahead", "reminder_minutes_before", "service_weekdays")


def settings_for(school: School) -> CanteenSettings:
    settings = queries.settings_of_school(school.pk)
    if settings is None:
        raise CanteenNotConfigured()
    return settings


def settings_payload(school: School) -> dict:
    settings = settings_for(school)
    return {
        "canteen_cutoff": school.canteen_cutoff,
        "late_cutoff": settings.late_cutoff,
        "max_weeks_ahead": settings.max_weeks_ahead,
        "reminder_minutes_before": settings.reminder_minutes_before,
        "service_weekdays": settings.service_weekdays,
        "time_zone": school.time_zone,
    }


def settings_update(*, school: School, **changes) -> CanteenSettings:
    """`canteen_cutoff` and `late_cutoff` are the default service period's (canteen/periods.py)."""
    with transaction.atomic():
        settings = settings_for(school)
        periods.default_period_times_set(
            school=school, cutoff=changes.get("canteen_cutoff"), late_cutoff=changes.get("late_cutoff"), set_late="late_cutoff" in changes
        )
        before = {"canteen_cutoff": school.canteen_cutoff, **snapshot(settings, SETTINGS_FIELDS)}
        if "canteen_cutoff" in changes:
            school.canteen_cutoff = changes.pop("canteen_cutoff")
            school.save(update_fields=["canteen_cutoff"])
        for name in SETTINGS_FIELDS:
            if name in changes:
                setattr(settings, name, sorted(set(changes[name])) if name == "service_weekdays" else changes[name])
        settings.save()
        before, after = changed_fields(before, {"canteen_cutoff": school.canteen_cutoff, **snapshot(settings, SETTINGS_FIELDS)})
        audit_record(
            action="canteen.settings_update",
            object_type="canteen.settings",
            object_id=settings.pk,
            school_id=school.pk,
            before=before,
            after=after,
        )
    return settings


def reminder_set(*, guardian: Guardian, enabled: bool) -> ReminderOptIn:
    preference, _ = ReminderOptIn.objects.update_or_create(guardian=guardian, defaults={"enabled": enabled})
    return preference
