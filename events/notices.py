"""What guardians are told, and when. Every notice goes through core.notifications (after commit)."""

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from core.money import format_dollars
from core.notifications import notify, notify_and_deliver
from events.links import event_link_url
from events.models import Event, Signup, SignupStatus
from guardians.models import GuardianLink, Student, User


def local_time(event: Event, instant: datetime) -> str:
    """How a deadline reads to the family: the school's wall clock, with its zone."""
    local = instant.astimezone(ZoneInfo(event.school.time_zone))
    return local.strftime("%a %d %b %Y, %H:%M %Z")


def money(cents: int) -> str:
    return f"${format_dollars(cents)}"


def _details(event: Event) -> str:
    cost = "free" if event.cost == 0 else f"{money(event.cost)} per student"
    return (
        f"{event.title} ({event.get_kind_display().lower()}) at {event.location}\n"
        f"From {local_time(event, event.starts_at)} to {local_time(event, event.ends_at)}\n"
        f"Cost: {cost}. Sign up by {local_time(event, event.signup_deadline)}."
    )


def _email(text: str, event: Event, user: User) -> str:
    url = event_link_url(event_id=event.pk, user_id=user.pk)
    return f"{text}\n\nSee the details and pay (no sign-in needed; the link is personal to you and expires):\n{url}\n"


def guardians_by_user(students, *, consent_only: bool = False) -> dict[User, list[Student]]:
    links = GuardianLink.objects.filter(student__in=students, revoked_at__isnull=True).select_related("guardian__user", "student")
    if consent_only:
        links = links.filter(can_give_consent=True)
    grouped: dict[User, list[Student]] = defaultdict(list)
    for link in links.order_by("student__first_name", "student_id"):
        grouped[link.guardian.user].append(link.student)
    return grouped


def _names(students: list[Student]) -> str:
    names = [student.first_name for student in students]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def event_published(event: Event, students) -> int:
    recipients = guardians_by_user(students)
    for user, children in recipients.items():
        text = f"{_names(children)} can go to {event.title}.\n\n{_details(event)}"
        notify(
            users=[user],
            kind="event_published",
            title=f"New {event.get_kind_display().lower()}: {event.title}",
            body=text,
            email_body=_email(text, event, user),
            data={"event_id": event.pk, "student_ids": [child.pk for child in children]},
            dedupe_key=f"event_published:{event.pk}",
        )
    return len(recipients)


def signup_changed(signup: Signup, *, refund: int = 0, status: str | None = None, deliver_here: bool = False) -> None:
    """Tell the guardian who signed what just happened to the sign-up: it became `status` (its status
    now unless given; the job telling of a new sign-up gives the status it got when signed).

    In a transaction the notice is delivered by a job after commit; `deliver_here` (that job, outside
    a transaction) records and delivers it in this call instead."""
    status = status or signup.status
    event, student, user = signup.event, signup.student, signup.guardian.user
    name = student.first_name
    if status == SignupStatus.CONFIRMED:
        title = f"{name} is going to {event.title}"
        text = f"{name}'s place at {event.title} is confirmed." + (f" Paid: {money(signup.amount_paid)}." if signup.amount_paid else "")
    elif status == SignupStatus.AWAITING_PAYMENT:
        title = f"Pay for {name}'s place at {event.title}"
        text = f"{name}'s consent is signed and a place is held. Pay {money(signup.amount_due)} by {local_time(event, signup.payment_due_at)} to confirm it."
    elif status == SignupStatus.OFFERED:
        title = f"A place for {name} at {event.title}"
        text = f"A place has come up for {name} at {event.title}. Pay {money(signup.amount_due)} by {local_time(event, signup.payment_due_at)} to take it; after that it goes to the next family."
    elif status == SignupStatus.WAITLISTED:
        title = f"{name} is on the waitlist for {event.title}"
        text = f"{event.title} is full. {name}'s consent is signed and {name} is on the waitlist; we will tell you if a place comes up."
    elif status == SignupStatus.LAPSED:
        title = f"{name}'s place at {event.title} was released"
        text = f"The fee for {name}'s place at {event.title} was not paid in time, so the place went to the next family."
    elif status == SignupStatus.WITHDRAWN:
        title = f"{name} is withdrawn from {event.title}"
        text = f"{name} is no longer going to {event.title}." + (f" {money(refund)} has been refunded to your wallet." if refund else "")
    else:
        return
    (notify_and_deliver if deliver_here else notify)(
        users=[user],
        kind="event_signup",
        title=title,
        body=f"{text}\n\n{_details(event)}",
        email_body=_email(f"{text}\n\n{_details(event)}", event, user),
        data={"event_id": event.pk, "signup_id": signup.pk, "student_id": student.pk, "status": status},
        dedupe_key=f"event_signup:{signup.pk}:{status}",
    )


def event_cancelled(signup: Signup, *, refund: int) -> None:
    event, student = signup.event, signup.student
    users = list(guardians_by_user([student]).keys())
    refund_text = f" {money(refund)} has been refunded to the wallet it was paid from." if refund else ""
    text = f"{event.title} has been cancelled by {event.school.name}." + (f" Reason: {event.cancel_reason}." if event.cancel_reason else "") + refund_text
    notify(
        users=users,
        kind="event_cancelled",
        title=f"Cancelled: {event.title}",
        body=text,
        data={"event_id": event.pk, "signup_id": signup.pk, "student_id": student.pk, "refund": refund},
        dedupe_key=f"event_cancelled:{signup.pk}",
    )


def reminder(event: Event, user: User, *, to_respond: list[Student], to_pay: list[Signup], dedupe_key: str) -> bool:
    lines = []
    if to_respond:
        lines.append(f"We have not heard from you about {_names(to_respond)} for {event.title}. Sign or decline by {local_time(event, event.signup_deadline)}.")
    for signup in to_pay:
        lines.append(f"{signup.student.first_name}'s place is held until {local_time(event, signup.payment_due_at)}: pay {money(signup.amount_due)} to confirm it.")
    text = "\n".join(lines) + f"\n\n{_details(event)}"
    return bool(
        notify(
            users=[user],
            kind="event_reminder",
            title=f"Reminder: {event.title}",
            body=text,
            email_body=_email(text, event, user),
            data={"event_id": event.pk},
            dedupe_key=dedupe_key,
        )
    )
