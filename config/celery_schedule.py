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
}
