"""Events staff publish, and the consent forms guardians sign for them."""

from django.db import models
from django.db.models import F, Q

from core import clock
from guardians.models import School, User


class EventKind(models.TextChoices):
    EXCURSION = "excursion"
    SPORT = "sport"
    CAMP = "camp"
    INCURSION = "incursion"


class EventStatus(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Event(models.Model):
    """An excursion, sports day, camp or incursion.

    Times are stored in UTC; deadlines are judged at request time against the
    clock (see `events.rules`), never by a job flipping a flag.
    """

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="events")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    location = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    signup_deadline = models.DateTimeField()
    cost = models.PositiveIntegerField(default=0, help_text="Cents per student; 0 is free.")
    capacity = models.PositiveIntegerField()
    waitlist_capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Null: no limit.")
    refund_percent = models.PositiveSmallIntegerField(default=100, help_text="Refunded on withdrawal before the deadline.")
    offer_window_hours = models.PositiveSmallIntegerField(default=48, help_text="Time a waitlisted family has to pay for a freed place.")
    reminder_hours_before_deadline = models.PositiveSmallIntegerField(default=48, help_text="0: no automatic reminder.")
    # Both empty: the whole school. Otherwise a student is eligible if either list names them.
    eligible_year_levels = models.JSONField(default=list, blank=True)
    eligible_classes = models.JSONField(default=list, blank=True)
    consent_form = models.ForeignKey(
        "events.ConsentFormVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The current version."
    )
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.DRAFT)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["school", "status", "starts_at"], name="event_school_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(condition=Q(signup_deadline__lte=F("starts_at")), name="event_deadline_before_start"),
            models.CheckConstraint(condition=Q(refund_percent__lte=100), name="event_refund_percent_range"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="event_capacity_positive"),
        ]

    def __str__(self):
        return self.title


class ConsentFormVersion(models.Model):
    """One exact version of an event's consent form: wording, the statement ticked, and the questions.

    Append-only (PostgreSQL refuses UPDATE and DELETE, migration 0002) and
    named by the SHA-256 of its canonical content: any change is a new version.
    """

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="form_versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.UniqueConstraint(fields=["event", "number"], name="form_version_number_unique"),
            models.UniqueConstraint(fields=["event", "content_hash"], name="form_version_hash_unique"),
        ]

    def __str__(self):
        return f"{self.event} form v{self.number}"

    @property
    def questions(self) -> list[dict]:
        return self.content.get("questions", [])
