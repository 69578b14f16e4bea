"""The one notification mechanism: in-app feed, email (Django's backend) and push (pluggable).

`notify` records the notices in the caller's transaction and enqueues delivery
after commit, so a rolled-back write never emails anyone. Email goes out only
if the user wants it: the guardian's master switch (`notify_by_email`) and
their choice for that kind (`NotificationPreference`, defaulting per kind).
"""

from contextlib import nullcontext
from functools import partial

import structlog
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser as User
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from core import clock, roles
from core.jobs import enqueue_after_commit
from core.models import Notification, NotificationPreference
from core.notification_kinds import KINDS, kind_email_default

log = structlog.get_logger("core.notifications")


def notify(
    *,
    users: list[User],
    kind: str,
    title: str,
    body: str = "",
    data: dict | None = None,
    dedupe_key: str | None = None,
    email_body: str = "",
) -> list[Notification]:
    created, _ = _record(users, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key, email_body=email_body)
    if created:
        enqueue_after_commit("core.tasks.deliver_notifications", [notice.pk for notice in created])
    return created


def notify_and_deliver(
    *,
    users: list[User],
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    data: dict | None = None,
    email_body: str = "",
) -> None:
    """Record the notices and deliver them in this call, for a job whose only work is to tell someone
    (a new sign-up's notice): it needs no second job, with its outbox row and broker round trip.

    Call it outside a transaction (it sends mail). Safe to run twice, as a job must be: a retry (the
    worker died, the mail server refused) finds by the dedupe key the notices an earlier run recorded,
    and each channel sends only what is still unsent on it.
    """
    created, already = _record(users, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key, email_body=email_body)
    if already:
        created += Notification.objects.filter(user__in=already, dedupe_key=dedupe_key).select_related("user", "user__guardian")
    _deliver_each(created)


def _record(users: list[User], *, data: dict | None, **fields) -> tuple[list[Notification], list[User]]:
    """The notices created now, and the users who already had theirs under the dedupe key."""
    created, already = [], []
    # Inside a transaction a duplicate must not abort it, so each insert gets a savepoint; outside one
    # (a job) an insert is its own transaction, and a refused one leaves nothing to undo.
    guarded = transaction.atomic if connection.in_atomic_block else nullcontext
    for user in users:
        try:
            with guarded():
                created.append(Notification.objects.create(user=user, data=data or {}, **fields))
        except IntegrityError:
            already.append(user)  # already recorded under this dedupe key
    return created, already


def wants_email(user: User, kind: str) -> bool:
    guardian = roles.role_of(user, "guardian")
    if guardian is not None and not guardian.notify_by_email:
        return False
    choice = NotificationPreference.objects.filter(user=user, kind=kind).values_list("by_email", flat=True).first()
    return kind_email_default(kind) if choice is None else choice


def deliver(notification_ids: list[int]) -> None:
    """Send each notice by email and push; safe to run twice.

    Each channel is claimed, sent and marked in one transaction, so a send that fails (the mail
    server refuses, the worker dies mid-send) leaves the notice unsent for the retry, and a
    notice marked sent is never sent again. The one duplicate left is a crash between the send
    and the commit: at least once, as the outbox that enqueued us is.
    """
    _deliver_each(Notification.objects.filter(pk__in=notification_ids).select_related("user", "user__guardian"))


def _deliver_each(notices) -> None:
    for notice in notices:
        guardian = getattr(notice.user, "guardian", None)
        if notice.emailed_at is None and wants_email(notice.user, notice.kind):
            body = notice.email_body or notice.body or notice.title
            _send_once(notice, "emailed_at", partial(send_mail, notice.title, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email]))
        if guardian is not None and guardian.notify_by_push and notice.pushed_at is None:
            _send_once(
                notice,
                "pushed_at",
                partial(push_backend().send, user_id=notice.user_id, title=notice.title, body=notice.body, data=notice.data),
            )


def _send_once(notice: Notification, sent_field: str, send) -> None:
    """Send on one channel unless another run has, or is, sending it (its row lock is skipped).

    The channel is marked sent first and sent in the same transaction: a send that fails rolls the mark
    back, and the mark's row lock keeps a second run from sending meanwhile."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_MARK_CHANNEL_SENT[sent_field], [clock.now(), notice.pk])
            if cursor.rowcount == 0:  # sent already, or being sent by another run
                return
        send()


# One statement per channel, as SQL (core/sql.py says why): a notice's channels are claimed once each
# for every notice sent. SKIP LOCKED: a run never waits on another run's send.
_MARK_CHANNEL_SENT = {
    field: f"""UPDATE {Notification._meta.db_table} SET {field} = %s
                WHERE id = (SELECT id FROM {Notification._meta.db_table}
                             WHERE id = %s AND {field} IS NULL FOR UPDATE SKIP LOCKED)"""
    for field in ("emailed_at", "pushed_at")
}


class LoggingPushBackend:
    """Push for development and tests: writes the notice to the log. Production plugs in FCM/APNs."""

    def send(self, *, user_id: int, title: str, body: str, data: dict) -> None:
        log.info("push_notification", user_id=user_id, title=title)


def push_backend():
    return import_string(settings.PUSH_BACKEND)()


# --- The feed -------------------------------------------------------------------


def notification_feed(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """A user's notices, newest first. Everyone sees only their own."""
    feed = Notification.objects.filter(user=user)
    return feed.filter(read_at__isnull=True) if unread_only else feed


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of the user's notices read; returns how many changed. Repeat-safe."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=clock.now())


# --- Email choices per kind -----------------------------------------------------


def notification_preferences(*, user: User) -> list[dict]:
    """Every known kind with the user's email choice for it (or the kind's default)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "by_email"))
    return [
        {"kind": kind.code, "label": kind.label, "by_email": chosen.get(kind.code, kind.email_default)}
        for kind in KINDS.values()
    ]


def notification_preferences_update(*, user: User, choices: dict[str, bool]) -> list[dict]:
    """Set the email choice for the given kinds (unknown kinds are refused by the caller)."""
    now = clock.now()
    with transaction.atomic():
        for kind, by_email in choices.items():
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"by_email": by_email, "updated_at": now})
    return notification_preferences(user=user)
