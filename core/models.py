from django.db import models


class OutboxJob(models.Model):
    """A Celery task to run after its transaction commits, written in that same transaction.

    `sent_at` is set once the broker has accepted the message; rows without it are relayed by
    `core.relay` until it does. The task itself must be safe to run twice.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="outbox_unsent_idx", condition=models.Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


# Notifications and outbound webhooks live in their own modules; importing them here registers them.
from core.models_notifications import Notification, NotificationPreference  # noqa: E402,F401
from core.models_webhooks import (  # noqa: E402,F401
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
