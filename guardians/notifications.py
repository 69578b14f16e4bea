"""The one notification mechanism: in-app feed, email (Django's backend) and push (pluggable).

`notify` records the notices in the caller's transaction and enqueues delivery
after commit, so a rolled-back write never emails anyone.
"""

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from guardians import clock
from guardians.models import Notification, User

log = structlog.get_logger("guardians.notifications")


def notify(*, users: list[User], kind: str, title: str, body: str = "", data: dict | None = None, dedupe_key: str | None = None) -> list[Notification]:
    created = []
    for user in users:
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(user=user, kind=kind, title=title, body=body, data=data or {}, dedupe_key=dedupe_key)
                )
        except IntegrityError:
            continue  # already sent under this dedupe key
    if created:
        from guardians.tasks import deliver_notifications

        ids = [notice.pk for notice in created]
        transaction.on_commit(lambda: deliver_notifications.delay(ids))
    return created


def deliver(notification_ids: list[int]) -> None:
    """Send each notice by email and push once; safe to run twice."""
    for notice in Notification.objects.filter(pk__in=notification_ids).select_related("user", "user__guardian"):
        guardian = getattr(notice.user, "guardian", None)
        wants_email = guardian.notify_by_email if guardian else True
        wants_push = guardian.notify_by_push if guardian else False
        if wants_email and notice.emailed_at is None:
            claimed = Notification.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=clock.now())
            if claimed:
                send_mail(notice.title, notice.body or notice.title, settings.DEFAULT_FROM_EMAIL, [notice.user.email])
        if wants_push and notice.pushed_at is None:
            claimed = Notification.objects.filter(pk=notice.pk, pushed_at__isnull=True).update(pushed_at=clock.now())
            if claimed:
                push_backend().send(user_id=notice.user_id, title=notice.title, body=notice.body, data=notice.data)


class LoggingPushBackend:
    """Push for development and tests: writes the notice to the log. Production plugs in FCM/APNs."""

    def send(self, *, user_id: int, title: str, body: str, data: dict) -> None:
        log.info("push_notification", user_id=user_id, title=title)


def push_backend():
    return import_string(settings.PUSH_BACKEND)()
