"""Outbound webhooks: who wants which events, the events we sent, and every attempt to send them.

The mechanism lives in `core` because every app publishes events and `core` is the root every
app may import. A subscription belongs to one tenant: a school (its admin staff manage it) or a
voucher program (its administrators do). Both sit above the kernel, so each is an id, not a
foreign key; `guardians.webhook_subscriptions` and the API check who may manage which.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import clock


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the event types it wants.

    The secret signs every delivery. After a rotation the previous secret stays valid
    until `previous_secret_expires_at`: deliveries carry a signature under each, so the
    receiver can switch at leisure. A subscription that answers 410 Gone is disabled.
    """

    class DisabledReason(models.TextChoices):
        GONE = "gone", "The endpoint answered 410 Gone"
        BY_USER = "by_user", "Paused by its owner"

    school_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="A guardians.School id.")
    program_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="A vouchers.Program id.")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # Needed in clear to sign; shown to the owner once, when created or rotated.
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=20, choices=DisabledReason.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "guardians_webhooksubscription"  # the tables predate the move into core
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["school_id"], condition=Q(is_active=True), name="webhook_sub_school_active_idx"),
            models.Index(fields=["program_id"], condition=Q(is_active=True), name="webhook_sub_program_active_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(school_id__isnull=False) & Q(program_id__isnull=True))
                | (Q(school_id__isnull=True) & Q(program_id__isnull=False)),
                name="webhook_subscription_one_tenant",
            )
        ]

    def __str__(self):
        return self.url

    def signing_secrets(self, *, now=None) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        now = now or clock.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookEvent(models.Model):
    """Something that happened, as sent to subscribers. Its id is the receivers' deduplication key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=60)
    school_id = models.PositiveBigIntegerField(null=True, blank=True)
    program_id = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "guardians_webhookevent"  # the tables predate the move into core
        ordering = ["-created_at"]


class WebhookDelivery(models.Model):
    """One event to one subscription, tried until it succeeds or the schedule runs out.

    `next_attempt_at` is when a pending delivery is due; an attempt in flight pushes it
    forward by a lease, so a second worker cannot send it at the same time and a crashed
    worker's delivery becomes due again.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body_excerpt = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "guardians_webhookdelivery"  # the tables predate the move into core
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due_idx"),
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_sub_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="webhook_delivery_once_per_subscription")
        ]


class WebhookDeliveryAttempt(models.Model):
    """The log of one HTTP attempt: what came back, or why nothing did."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=clock.now)
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "guardians_webhookdeliveryattempt"  # the tables predate the move into core
        ordering = ["delivery_id", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique")]
