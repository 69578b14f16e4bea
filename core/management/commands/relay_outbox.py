"""`python manage.py relay_outbox`: the Procfile's `relay`, which hands new outbox rows to Celery (core/relay.py)."""

from django.core.management.base import BaseCommand

from core.relay import relay_forever


class Command(BaseCommand):
    help = "Send the outbox's new jobs to Celery as their writers commit (runs until stopped)."

    def handle(self, *args, **options):
        # Stopped by a signal (the process manager's SIGTERM, Ctrl-C). A batch cut short is rolled back
        # with its transaction and sent again by the next relay: the tasks are safe to run twice.
        relay_forever()
