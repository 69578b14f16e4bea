"""Money notices to guardians, and what else follows a card balance falling."""

import structlog

from core import school_time
from core.notifications import notify
from guardians.models import GuardianLink, Student
from wallet.models import TopUp

log = structlog.get_logger("wallet.notifications")


def notify_low_balance_if_crossed(*, student_id: int, before: int, after: int, threshold, auto_topup_threshold) -> None:
    """Run after a charge commits: tell the money guardians when a card balance falls below their
    threshold (once a day), and start an automatic top-up if one of them has set it up and the balance
    is below its threshold. Both thresholds are as the charge read them (None: none set)."""
    _notify_low_balance(student_id=student_id, before=before, after=after, threshold=threshold)
    if auto_topup_threshold is not None and after < auto_topup_threshold:
        _start_auto_topup(student_id)


def _notify_low_balance(*, student_id: int, before: int, after: int, threshold: int | None) -> None:
    if threshold is None or not (before >= threshold > after):
        return
    student = Student.objects.select_related("school").get(pk=student_id)
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
        # Once a school day: the school's date, not UTC's (which turns over mid-morning in Sydney).
        dedupe_key=f"low_balance:{student_id}:{school_time.school_today(student.school).isoformat()}",
    )


def _start_auto_topup(student_id: int) -> None:
    from wallet.topups import auto_topup_check  # topups reaches the gateway; keep card charges free of it

    try:
        auto_topup_check(student_id)
    except Exception:  # the charge has committed: an automatic top-up problem must not turn it into an error
        log.exception("auto_topup_check_failed", student_id=student_id)


def notify_automatic_topup(topup: TopUp, *, succeeded: bool, moved_to_card: bool = False) -> None:
    """Tell the guardian an automatic top-up went through (or did not). Once per top-up and outcome."""
    student = topup.student
    name = student.first_name if student else "your child"
    total = format_cents(topup.total_charged)
    if succeeded:
        title = f"Automatic top-up for {name}"
        where = f"{name}'s card" if moved_to_card else "your wallet"
        body = f"We charged {total} to your saved card and added {format_cents(topup.amount)} to {where}."
    else:
        title = f"Automatic top-up for {name} failed"
        body = f"Your saved card was not charged {total} ({topup.failure_code or 'declined'}). Top up by hand or update your card."
    notify(
        users=[topup.guardian.user],
        kind="auto_topup_succeeded" if succeeded else "auto_topup_failed",
        title=title,
        body=body,
        data={"topup_id": topup.pk, "student_id": topup.student_id, "amount": topup.amount, "fee": topup.fee},
        dedupe_key=f"auto_topup:{topup.pk}:{'succeeded' if succeeded else 'failed'}",
    )


def format_cents(cents: int) -> str:
    """Display only: money is integer cents everywhere else."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100}.{abs(cents) % 100:02d}"
