"""The beat schedule lives in code so every deployment runs the same jobs.

Jobs only perform side effects (purges, notices, reports, settlement);
deadlines are enforced at request time, never by a job flipping a flag.
"""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-keys": {
        "task": "api.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    # Nightly in Australia: 16:30 UTC is 02:30 AEST / 03:30 AEDT. (02:30 UTC would be
    # lunchtime in Sydney, the canteen's busiest hour.)
    "reconcile-ledger-nightly": {
        "task": "wallet.reconciliation_tasks.reconcile_ledger",
        "schedule": crontab(hour=16, minute=30),
    },
    # Cut-offs fall at each school's own local time; the task finds those just passed.
    "canteen-run-due-cutoffs": {
        "task": "canteen.tasks.run_due_cutoffs",
        "schedule": 60.0,
    },
    "canteen-cutoff-reminders": {
        "task": "canteen.tasks.send_cutoff_reminders",
        "schedule": 300.0,
    },
}
