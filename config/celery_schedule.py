"""The beat schedule lives in code so every deployment runs the same jobs.

Jobs only perform side effects (purges, notices, reports, settlement);
deadlines are enforced at request time, never by a job flipping a flag.
"""

import os

from celery.schedules import crontab

# How often the beat looks for cut-offs that have just passed (seconds). A minute in production;
# the test of `make run` shortens it to watch the demo's live cut-off charge an order.
CANTEEN_CUTOFF_POLL_SECONDS = float(os.environ.get("CANTEEN_CUTOFF_POLL_SECONDS", "60"))

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
        "schedule": CANTEEN_CUTOFF_POLL_SECONDS,
    },
    "canteen-cutoff-reminders": {
        "task": "canteen.tasks.send_cutoff_reminders",
        "schedule": 300.0,
    },
}

# --- Vouchers ---------------------------------------------------------------------
CELERY_BEAT_SCHEDULE.update(
    {
        # 15:45 UTC is 01:45 AEST / 02:45 AEDT: yesterday's redemptions, settled and paid out.
        "vouchers-settle-daily": {
            "task": "vouchers.tasks.settle_vouchers_daily",
            "schedule": crontab(hour=15, minute=45),
        },
        # 21:00 UTC is 07:00 AEST / 08:00 AEDT: reminders arrive with breakfast, not at night.
        "vouchers-expiry-reminders": {
            "task": "vouchers.tasks.send_expiry_reminders",
            "schedule": crontab(hour=21, minute=0),
        },
        # Expired vouchers are refused at request time; this only returns their reserved value to the program.
        "vouchers-release-reserves": {
            "task": "vouchers.tasks.release_voucher_reserves_due",
            "schedule": crontab(minute=41),
        },
    }
)

# --- Payments ---------------------------------------------------------------------
CELERY_BEAT_SCHEDULE.update(
    {
        # Stripe events whose task was lost or failed, guardian refunds Stripe could not be
        # reached for, automatic top-ups not yet sent: retried with their original keys.
        "payments-sweep": {
            "task": "wallet.tasks.sweep_payments",
            "schedule": 300.0,
        },
    }
)

# --- Events -------------------------------------------------------------------------
# Side effects only: every deadline is still judged when a request arrives.
CELERY_BEAT_SCHEDULE.update(
    {
        # The automatic reminder before each event's sign-up deadline (sent once per event).
        "events-due-reminders": {
            "task": "events.tasks.send_due_reminders",
            "schedule": crontab(minute=5),
        },
        # Offer places freed by unpaid deadlines without waiting for the next request on the event.
        "events-advance-waitlists": {
            "task": "events.tasks.advance_waitlists",
            "schedule": 600.0,
        },
        # The PNG and PDF of consents signed over a minute ago (a read renders them sooner if asked).
        "events-render-consent-documents": {
            "task": "events.tasks.render_consent_documents",
            "schedule": 60.0,
        },
        # 16:45 UTC is 03:45 AEDT: after the ledger reconciliation, before anyone signs.
        "events-verify-consent-chains": {
            "task": "events.tasks.verify_consent_chains",
            "schedule": crontab(hour=16, minute=45),
        },
    }
)

# --- Outbound webhooks ----------------------------------------------------------------
CELERY_BEAT_SCHEDULE.update(
    {
        # Deliveries whose retry time has come (and any a lost task or a broker outage left behind).
        "webhooks-retry-due-deliveries": {
            "task": "core.tasks.retry_due_webhook_deliveries",
            "schedule": 60.0,
        },
        # The delivery log is kept 30 days; 17:10 UTC is the small hours in Australia.
        "webhooks-purge-old-events": {
            "task": "core.tasks.purge_old_webhook_events",
            "schedule": crontab(hour=17, minute=10),
        },
    }
)

# --- Leavers (guardians/leavers.py, guardians/retention.py) ------------------------------------
CELERY_BEAT_SCHEDULE.update(
    {
        # Hourly, so a leaving day is processed within the hour after the school's midnight, before
        # the canteen's cut-off; and leavers past LEAVER_RETENTION_DAYS are de-identified.
        "leavers-sweep": {
            "task": "guardians.tasks.leavers_sweep",
            "schedule": crontab(minute=23),
        },
    }
)

# --- After-commit jobs (core.relay) ---------------------------------------------------------
CELERY_BEAT_SCHEDULE.update(
    {
        # Jobs whose after-commit send failed (broker down or hung) or was cut short by a crash.
        "outbox-relay": {
            "task": "core.relay.relay_outbox",
            "schedule": 15.0,  # OUTBOX_RELAY_INTERVAL_SECONDS in settings
        },
        # Sent rows are kept a week for diagnosis; 17:20 UTC is the small hours in Australia.
        "outbox-purge-sent": {
            "task": "core.relay.purge_outbox",
            "schedule": crontab(hour=17, minute=20),
        },
    }
)
