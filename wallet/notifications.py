"""Money notices to guardians."""

from guardians.models import GuardianLink, Student
from guardians.notifications import notify
from guardians import clock
from wallet.models import SpendingControls


def notify_low_balance_if_crossed(*, student_id: int, before: int, after: int) -> None:
    """Tell the money guardians when a card balance falls below their threshold (once a day)."""
    controls = SpendingControls.objects.filter(student_id=student_id).first()
    threshold = controls.low_balance_threshold if controls else None
    if threshold is None or not (before >= threshold > after):
        return
    student = Student.objects.get(pk=student_id)
    users = [
        link.guardian.user
        for link in GuardianLink.objects.filter(student_id=student_id, revoked_at__isnull=True, can_manage_money=True).select_related("guardian__user")
    ]
    notify(
        users=users,
        kind="low_balance",
        title=f"{student.first_name}'s card balance is low",
        body=f"{student.first_name}'s card has {format_cents(after)} left.",
        data={"student_id": student_id, "balance": after},
        dedupe_key=f"low_balance:{student_id}:{clock.now().date().isoformat()}",
    )


def format_cents(cents: int) -> str:
    """Display only: money is integer cents everywhere else."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100}.{abs(cents) % 100:02d}"
