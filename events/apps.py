from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events, consent and announcements"

    def ready(self):
        from events import (
            receivers,  # noqa: F401
            webhook_events,  # noqa: F401 - registers the app's webhook event types
        )
