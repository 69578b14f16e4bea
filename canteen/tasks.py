"""Canteen beat tasks: thin wrappers that find the work and call a service. Safe to run twice."""

from celery import shared_task

from canteen import cutoff, reminders


@shared_task(name="canteen.tasks.run_due_cutoffs")
def run_due_cutoffs() -> int:
    done = 0
    for school, day, period in cutoff.due_cutoffs():
        if cutoff.cutoff_run(school=school, service_date=day, period=period) is not None:
            done += 1
    return done


@shared_task(name="canteen.tasks.send_cutoff_reminders")
def send_cutoff_reminders() -> int:
    return reminders.reminders_send()
