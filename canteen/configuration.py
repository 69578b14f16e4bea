"""A school's canteen set-up, and guardians' reminder choice."""

from django.db import transaction

from audit.services import audit_record, changed_fields, snapshot
from canteen.errors import CanteenNotConfigured
from canteen.models import CanteenSettings, ReminderOptIn
from guardians.models import Guardian, School
from guardians.prepared import PreparedRead

SETTINGS_FIELDS = ("late_cutoff", "max_weeks_ahead", "reminder_minutes_before", "service_weekdays")


# Read by every order: compiled once (guardians/prepared.py).
_SETTINGS = PreparedRead(
    lambda school_id: CanteenSettings.objects.select_related("merchant").filter(school_id=school_id)[:1], school_id=int
)


def settings_for(school: School) -> CanteenSettings:
    settings = _SETTINGS.first(school_id=school.pk)
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
    with transaction.atomic():
        settings = settings_for(school)
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
