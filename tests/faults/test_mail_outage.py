"""The mail server refusing a notice: nothing is marked sent, the retry sends it, and a sent notice
is never sent again (core.notifications.deliver)."""

import smtplib

import pytest
from django.core import mail

from core import notifications
from core.models import Notification
from tests.factories import GuardianFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def notice_for_a_guardian() -> Notification:
    user = GuardianFactory(notify_by_email=True).user
    [notice] = notifications.notify(users=[user], kind="low_balance", title="Low balance", body="Ava's card is below $5.")
    return notice


def test_a_refused_email_stays_unsent_and_the_retry_sends_it_once(refusing_mail_server):
    notice = notice_for_a_guardian()

    with pytest.raises(smtplib.SMTPServerDisconnected):  # the task's autoretry (OSError) takes it from here
        notifications.deliver([notice.pk])
    notice.refresh_from_db()
    assert notice.emailed_at is None and mail.outbox == []

    notifications.deliver([notice.pk])  # the retry
    notifications.deliver([notice.pk])  # and a duplicate run of the task
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    assert [message.subject for message in mail.outbox] == ["Low balance"]


def test_the_delivery_task_retries_on_the_mail_servers_errors():
    from core.tasks import deliver_notifications

    assert issubclass(smtplib.SMTPServerDisconnected, deliver_notifications.autoretry_for)
    assert deliver_notifications.acks_late
