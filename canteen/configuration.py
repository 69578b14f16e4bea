"""A school's canteen set-up, and guardians' reminder choice."""

from django.db import transaction

from canteen.errors import CanteenNotConfigured
from canteen.models import CanteenSettings, ReminderOptIn
from guardians.models import Guardian, School

SETTINGS_FIELDS = ("late_cutoff", "max_weeks_ahead", "reminder_minutes_before", "service_weekdays")


def settings_for(school: School) -> CanteenSettings:
    settings = CanteenSettings.objects.select_related("merchant").filter(school=school).first()
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
        if "canteen_cutoff" in changes:
            school.canteen_cutoff = changes.pop("canteen_cutoff")
            school.save(update_fields=["canteen_cutoff"])
        for name in SETTINGS_FIELDS:
            if name in changes:
                setattr(settings, name, sorted(set(changes[name])) if name == "service_weekdays" else changes[name])
        settings.save()
    return settings


def reminder_set(*, guardian: Guardian, enabled: bool) -> ReminderOptIn:
    preference, _ = ReminderOptIn.objects.update_or_create(guardian=guardian, defaults={"enabled": enabled})
    return preference
