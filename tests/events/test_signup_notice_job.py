"""A new sign-up's notice is recorded and delivered by one job (events.tasks.signup_signed_notice),
not by a second delivery job of its own; the job is safe to run twice and to retry after the mail
server refuses (core.notifications.notify_and_deliver)."""

import smtplib

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import jobs
from core.models import Notification, NotificationPreference, OutboxJob
from events.models import Signup
from events.tasks import signup_signed_notice
from tests.events.conftest import family, make_event, sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unsent_jobs(monkeypatch):
    """The broker never gets the after-commit jobs: the test runs the notice job itself."""
    handed = []
    monkeypatch.setattr(jobs, "publish", lambda task, job_id, args: handed.append((task, args)))
    return handed


def test_the_notice_of_a_signup_is_recorded_and_delivered_by_its_one_job(world, client_for):
    link = family(world.school, first_name="Noah")
    event = make_event(world.admin, title="Zoo visit", cost=0)
    jobs_before = set(OutboxJob.objects.values_list("pk", flat=True))  # the publication's notices

    response = sign(client_for(link.guardian.user), event, link.student_id)

    assert response.status_code == 201, response.content
    notice = Notification.objects.get(user=link.guardian.user, kind="event_signup")
    assert notice.title == "Noah is going to Zoo visit" and notice.data["status"] == "confirmed"
    assert notice.emailed_at is not None and notice.pushed_at is not None
    assert [message.to for message in mail.outbox if message.subject == notice.title] == [[link.guardian.user.email]]
    assert list(OutboxJob.objects.exclude(pk__in=jobs_before).values_list("task", flat=True)) == ["events.tasks.signup_signed_notice"]


def test_the_notice_job_run_twice_records_and_sends_one_notice(world, client_for, unsent_jobs):
    link = family(world.school)
    event = make_event(world.admin, cost=0)
    assert sign(client_for(link.guardian.user), event, link.student_id).status_code == 201
    [(task, args)] = [job for job in unsent_jobs if job[0] == "events.tasks.signup_signed_notice"]

    signup_signed_notice(*args)
    signup_signed_notice(*args)  # a redelivered job

    [notice] = Notification.objects.filter(user=link.guardian.user, kind="event_signup")
    assert notice.emailed_at is not None
    assert [message.subject for message in mail.outbox if message.to == [link.guardian.user.email]] == [notice.title]


def test_a_refused_email_leaves_the_notice_unsent_and_the_retry_sends_it_once(world, client_for, unsent_jobs, refusing_mail_server):
    link = family(world.school)
    event = make_event(world.admin, cost=0)
    assert sign(client_for(link.guardian.user), event, link.student_id).status_code == 201
    [signup] = Signup.objects.filter(student_id=link.student_id)

    with pytest.raises(smtplib.SMTPServerDisconnected):  # the job's autoretry (OSError) takes it from here
        signup_signed_notice(signup.pk, "confirmed")
    notice = Notification.objects.get(user=link.guardian.user, kind="event_signup")
    assert notice.emailed_at is None and mail.outbox == []  # with unsent_jobs, the event's publication told no one

    signup_signed_notice(signup.pk, "confirmed")  # the retry
    signup_signed_notice(signup.pk, "confirmed")  # and a duplicate run

    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.pushed_at is not None
    assert Notification.objects.filter(user=link.guardian.user, kind="event_signup").count() == 1
    assert [message.subject for message in mail.outbox] == [notice.title]


def test_the_notice_job_retries_on_the_mail_servers_errors_and_is_redelivered_if_its_worker_dies():
    assert issubclass(smtplib.SMTPServerDisconnected, signup_signed_notice.autoretry_for)
    assert signup_signed_notice.acks_late


def test_the_job_reads_the_signup_with_all_its_notice_needs_in_one_statement(world, client_for, unsent_jobs, django_assert_num_queries):
    from events.queries import signup_for_notice

    link = family(world.school, first_name="Ivy")
    event = make_event(world.admin, cost=0)
    assert sign(client_for(link.guardian.user), event, link.student_id).status_code == 201
    expected = Signup.objects.select_related("event__school", "student", "guardian__user").get(student_id=link.student_id)

    with django_assert_num_queries(1):
        signup = signup_for_notice(expected.pk)
        seen = (signup.status, signup.event.title, signup.event.school.time_zone, signup.student.first_name,
                signup.guardian.user.email, signup.guardian.user.guardian.notify_by_push)

    assert seen == (expected.status, event.title, world.school.time_zone, "Ivy", link.guardian.user.email, True)
    assert signup_for_notice(-1) is None


def test_the_job_records_and_delivers_the_notice_on_both_channels_in_nine_statements(world, client_for, unsent_jobs):
    """The sign-up read, the notice's insert, the email choice, then per channel one transaction whose
    one statement marks it sent and whose commit follows the send."""
    link = family(world.school)
    event = make_event(world.admin, cost=0)
    assert sign(client_for(link.guardian.user), event, link.student_id).status_code == 201
    [(_, args)] = [job for job in unsent_jobs if job[0] == "events.tasks.signup_signed_notice"]

    with CaptureQueriesContext(connection) as queries:
        signup_signed_notice(*args)

    statements = [" ".join(query["sql"].split()[:2]) for query in queries.captured_queries]
    notices, choices = Notification._meta.db_table, NotificationPreference._meta.db_table
    assert statements == [
        'SELECT s."id",', "INSERT INTO", f'SELECT "{choices}"."by_email"',
        "BEGIN", f"UPDATE {notices}", "COMMIT",  # email: marked, sent, committed
        "BEGIN", f"UPDATE {notices}", "COMMIT",  # push
    ], statements
    notice = Notification.objects.get(user=link.guardian.user, kind="event_signup")
    assert notice.emailed_at is not None and notice.pushed_at is not None
