"""Announcements: one post, one notice per guardian in the audience (in-app feed, email per their choice)."""

from django.db import transaction

from core.notifications import notify
from events.errors import AudienceInvalid
from events.models import LIVE, Announcement, Audience, Event, Signup
from guardians.models import GuardianLink, StaffMember, Student


def _audience_students(*, staff: StaffMember, audience: str, year_level, roll_class: str, event: Event | None):
    school_students = Student.objects.filter(school=staff.school)
    if audience == Audience.SCHOOL:
        return school_students
    if audience == Audience.YEAR_LEVEL:
        if year_level is None:
            raise AudienceInvalid("Name the year level.", field="year_level")
        return school_students.filter(year_level=year_level)
    if audience == Audience.CLASS:
        if not roll_class:
            raise AudienceInvalid("Name the class.", field="roll_class")
        return school_students.filter(roll_class=roll_class)
    if audience == Audience.EVENT:
        if event is None or event.school_id != staff.school_id:
            raise AudienceInvalid("Name one of your school's events.", field="event_id")
        return school_students.filter(pk__in=Signup.objects.filter(event=event, status__in=LIVE).values("student_id"))
    raise AudienceInvalid()


def announcement_post(
    *, staff: StaffMember, audience: str, title: str, body: str, year_level: int | None = None, roll_class: str = "", event: Event | None = None
) -> Announcement:
    students = _audience_students(staff=staff, audience=audience, year_level=year_level, roll_class=roll_class, event=event)
    users = list(
        {
            link.guardian.user
            for link in GuardianLink.objects.filter(student__in=students, revoked_at__isnull=True).select_related("guardian__user")
        }
    )
    with transaction.atomic():
        announcement = Announcement.objects.create(
            school=staff.school,
            audience=audience,
            year_level=year_level if audience == Audience.YEAR_LEVEL else None,
            roll_class=roll_class if audience == Audience.CLASS else "",
            event=event if audience == Audience.EVENT else None,
            title=title,
            body=body,
            posted_by=staff.user,
            recipient_count=len(users),
        )
        notify(
            users=sorted(users, key=lambda user: user.pk),
            kind="announcement",
            title=title,
            body=body,
            email_body=f"{body}\n\n{staff.school.name}",
            data={"announcement_id": announcement.pk, "school_id": staff.school_id, "event_id": announcement.event_id},
            dedupe_key=f"announcement:{announcement.pk}",
        )
    return announcement
