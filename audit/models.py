"""The audit log's one table. Append-only: PostgreSQL refuses UPDATE and DELETE
(migrations/0002_append_only.py).

No foreign keys on purpose: deleting a user, a school or a terminal must never reach into the
log (a cascade would be refused by the trigger, a SET NULL would erase who acted).
"""

from django.db import models
from django.db.models import Q

from core import clock


class ActorKind(models.TextChoices):
    SCHOOL_STAFF = "school_staff"
    PROGRAM_ADMIN = "program_admin"
    MERCHANT_ADMIN = "merchant_admin"
    PLATFORM_STAFF = "platform_staff"
    TERMINAL = "terminal"
    SYSTEM = "system"


class Capture(models.TextChoices):
    SERVICE = "service", "Recorded by the service, with the values before and after"
    REQUEST = "request", "Recorded after a successful staff request that no service recorded"
    ADMIN = "admin", "Recorded from a Django admin LogEntry"


class AuditEntry(models.Model):
    occurred_at = models.DateTimeField(default=clock.now)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_roles = models.JSONField(default=list, blank=True)
    actor_terminal_id = models.BigIntegerField(null=True, blank=True)
    actor_merchant_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    # The tenant whose log shows the row: a school's admins read their school's rows.
    school_id = models.BigIntegerField(null=True, blank=True)
    program_id = models.BigIntegerField(null=True, blank=True)
    # Only the fields that changed, redacted (audit/redaction.py).
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    capture = models.CharField(max_length=10, choices=Capture.choices, default=Capture.SERVICE)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["school_id", "-id"], name="audit_school_idx", condition=Q(school_id__isnull=False)),
            models.Index(fields=["actor_user_id", "-id"], name="audit_actor_idx", condition=Q(actor_user_id__isnull=False)),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["occurred_at"], name="audit_occurred_idx"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_kind}:{self.actor_user_id or self.actor_terminal_id} {self.action}"
