from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events, consent and announcements"

    def ready(self):
        from events import (
            receivers,  # noqa: F401
            webhook_events,  # noqa: F401 - registers the app's webhook event types
        )
        from events.leavers import leaver_consent_deidentify, leaver_signups_cancel
        from guardians.signals import student_deidentify, student_left

        student_left.connect(leaver_signups_cancel, dispatch_uid="events_leaver_signups_cancel")
        student_deidentify.connect(leaver_consent_deidentify, dispatch_uid="events_leaver_consent_deidentify")
