"""The nudge before each period's cut-off: guardians who opted in hear about children with no order in it today."""

from datetime import timedelta

from canteen import calendar, periods
from canteen.models import CanteenSettings, Order, OrderStatus, ReminderOptIn
from core import clock, school_time
from core.notifications import notify
from guardians.models import GuardianLink


def reminders_send() -> int:
    """Send today's reminders for the periods inside their reminder window. A dedupe key makes it once a period and day."""
    sent = 0
    now = clock.now()
    for settings in CanteenSettings.objects.select_related("school"):
        school = settings.school
        today = school_time.school_today(school)
        if not calendar.is_service_day(school, settings, today):
            continue
        for period in periods.periods_of(school):
            cutoff = calendar.cutoff_instant(school, today, period)
            if period.is_active and cutoff - timedelta(minutes=settings.reminder_minutes_before) <= now < cutoff:
                sent += _remind(school, today, period)
    return sent


def _remind(school, today, period) -> int:
    """Opted-in guardians of the school's children with no order in the period today."""
    sent = 0
    ordered = Order.objects.filter(school=school, service_date=today, period=period, status=OrderStatus.PLACED).values("student_id")
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
                title=f"No {period.name.lower()} order for {link.student.first_name} today",
                body=f"{period.name} orders close at {period.cutoff:%H:%M}.",
                data={"student_id": link.student_id, "service_date": today.isoformat(), "period_id": period.pk},
                # The default period keeps the key it had when it was the only one.
                dedupe_key=f"canteen_reminder:{link.student_id}:{today.isoformat()}" + ("" if period.is_default else f":{period.pk}"),
            )
        )
    return sent
