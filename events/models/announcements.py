"""Announcements staff post to a school, a year level, a class or an event's families."""

from django.db import models

from core import clock
from guardians.models import School, User


class Audience(models.TextChoices):
    SCHOOL = "school"
    YEAR_LEVEL = "year_level"
    CLASS = "class"
    EVENT = "event"


class Announcement(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="announcements")
    audience = models.CharField(max_length=12, choices=Audience.choices)
    year_level = models.PositiveSmallIntegerField(null=True, blank=True)
    roll_class = models.CharField(max_length=20, blank=True)
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="announcements")
    title = models.CharField(max_length=200)
    body = models.TextField()
    posted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(default=clock.now)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-posted_at", "-id"]
