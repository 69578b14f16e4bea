"""The nudge before the cut-off: guardians who opted in hear about children with no order today."""

from datetime import timedelta

from canteen import calendar
from canteen.models import CanteenSettings, Order, OrderStatus, ReminderOptIn
from core import clock, school_time
from core.notifications import notify
from guardians.models import GuardianLink


def reminders_send() -> int:
    """Send today's reminders for schools inside their reminder window. A dedupe key makes it once a day."""
    sent = 0
    now = clock.now()
    for settings in CanteenSettings.objects.select_related("school"):
        school = settings.school
        today = school_time.school_today(school)
        cutoff = calendar.cutoff_instant(school, today)
        if not calendar.is_service_day(school, settings, today):
            continue
        if not cutoff - timedelta(minutes=settings.reminder_minutes_before) <= now < cutoff:
            continue
        ordered = Order.objects.filter(school=school, service_date=today, status=OrderStatus.PLACED).values("student_id")
        opted_in = ReminderOptIn.objects.filter(enabled=True).values("guardian_id")
        links = (
            GuardianLink.objects.filter(student__school=school, revoked_at__isnull=True, can_manage_money=True, guardian_id__in=opted_in)
            .exclude(student_id__in=ordered)
            .select_related("guardian__user", "student")
        )
        for link in links:
            sent += len(
                notify(
                    users=[link.guardian.user],
                    kind="canteen_reminder",
                    title=f"No lunch order for {link.student.first_name} today",
                    body=f"Orders close at {school.canteen_cutoff:%H:%M}.",
                    data={"student_id": link.student_id, "service_date": today.isoformat()},
                    dedupe_key=f"canteen_reminder:{link.student_id}:{today.isoformat()}",
                )
            )
    return sent
