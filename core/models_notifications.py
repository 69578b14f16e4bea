"""Notifications: one message to one user, and each user's choice of channel per kind."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import clock


class Notification(models.Model):
    """One message to one user: shown in the in-app feed, and emailed or pushed per their choices.

    Delivery happens in a Celery task after commit; `emailed_at`/`pushed_at`
    make each channel at-most-once even if the task runs twice.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Set when the same logical notice must not be sent twice (e.g. "low balance, student 7, 2026-11-28").
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    # Filled by the app that notifies: the email says more than the in-app feed (e.g. a signed link).
    email_body = models.TextField(blank=True)

    class Meta:
        db_table = "guardians_notification"  # the table predates the move into core
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_feed_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], condition=Q(dedupe_key__isnull=False), name="notification_dedupe")
        ]


class NotificationPreference(models.Model):
    """A user's choice to receive one kind of notification by email, or not.

    No row means the kind's default (see `core.notification_kinds`). The
    in-app feed always shows every notice; only email is chosen per kind.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=40)
    by_email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "guardians_notificationpreference"
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]
