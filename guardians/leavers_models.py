"""A student leaving the school (end of Year 6, a move): the decision, its processing, and retention.

One row per decision. An undone decision is kept as history (`undone_at`); at most one decision
per student is live at a time. The row never holds personal data itself, so it can outlive the
student's de-identification as the record of what was done and when.
"""

from django.db import models
from django.db.models import Q

from core import clock


class LeaverReason(models.TextChoices):
    COMPLETED = "completed", "Finished at the school (e.g. end of Year 6)"
    MOVED = "moved", "Moved to another school"
    OTHER = "other"


class StudentLeaver(models.Model):
    student = models.ForeignKey("guardians.Student", on_delete=models.PROTECT, related_name="leavings")
    # The first school day the student is no longer at the school; the card closes at its start
    # (school-local) and orders and sign-ups from that day on are cancelled.
    leaving_on = models.DateField()
    reason = models.CharField(max_length=20, choices=LeaverReason.choices, default=LeaverReason.OTHER)
    marked_by = models.ForeignKey("guardians.User", on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(default=clock.now)
    # "<caller scope>:<Idempotency-Key>": a retried request finds the decision it made.
    request_key = models.CharField(max_length=300, unique=True, null=True, blank=True)
    # Card closed, balance returned, orders and sign-ups cancelled: done once the leaving day came.
    processed_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey("guardians.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The personal data is de-identified on the first run of the retention job on or after this date.
    retain_until = models.DateField()
    deidentified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-marked_at", "-id"]
        indexes = [
            models.Index(fields=["leaving_on"], condition=Q(processed_at__isnull=True, undone_at__isnull=True), name="leaver_processing_due_idx"),
            models.Index(fields=["retain_until"], condition=Q(deidentified_at__isnull=True, undone_at__isnull=True), name="leaver_deidentify_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["student"], condition=Q(undone_at__isnull=True), name="one_live_leaving_per_student"),
            models.CheckConstraint(condition=Q(retain_until__gte=models.F("leaving_on")), name="leaver_retained_after_leaving"),
            models.CheckConstraint(condition=Q(undone_at__isnull=True) | Q(processed_at__isnull=True), name="leaver_undone_only_before_processing"),
        ]

    @property
    def is_live(self) -> bool:
        return self.undone_at is None
