"""Prometheus metrics: what every app may record, and what `/metrics` shows (docs/operations.md, Metrics).

Labels are bounded: a route name (never a raw path), a status class, a decision's stable error
code, a job name, an event type. Recording never raises: a full disk under the multiprocess
directory or a bug here costs a data point, never a committed write (`_never_raises`).

With PROMETHEUS_MULTIPROC_DIR set (gunicorn and Celery, see core/metrics_dir.py) every process
writes its own files and `metrics_exposition` adds them up; without it (tests, `runserver`)
the values live in this process.
"""

import functools
import os
import time
from collections.abc import Callable

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY

from core.metrics_dir import ENV as MULTIPROC_ENV

log = structlog.get_logger("core.metrics")

# Requests are mostly tens of milliseconds; the tail that matters is the lock timeouts (seconds).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Batch jobs run from a fraction of a second to many minutes.
RUN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)

http_requests = Counter(
    "tuckbox_http_requests", "HTTP requests answered, by route name, method and status class.", ["route", "method", "status"]
)
http_request_duration = Histogram(
    "tuckbox_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name and method.",
    ["route", "method"],
    buckets=REQUEST_BUCKETS,
)
money_decisions = Counter(
    "tuckbox_money_decisions",
    "Money decisions answered through the API: accepted, declined (a 4xx with its stable code) or error (5xx).",
    ["decision", "outcome", "code"],
)
batch_runs = Counter("tuckbox_batch_runs", "Runs of a batch job, by job and outcome (completed, skipped, error).", ["job", "outcome"])
batch_run_duration = Histogram("tuckbox_batch_run_duration_seconds", "How long a batch job's run took.", ["job"], buckets=RUN_BUCKETS)
batch_items = Counter("tuckbox_batch_items", "Items a batch job's runs processed (orders posted, settlements made).", ["job"])
webhook_attempts = Counter(
    "tuckbox_webhook_attempts",
    "Webhook delivery attempts by result: delivered, http_4xx, http_5xx, redirect, gone, timeout, target_refused, connection_error.",
    ["result"],
)
webhook_deliveries_failed = Counter(
    "tuckbox_webhook_deliveries_failed", "Webhook deliveries given up on (retries exhausted or 410 Gone), by event type.", ["event_type"]
)


def _never_raises(record: Callable) -> Callable:
    @functools.wraps(record)
    def safe(*args, **kwargs):
        try:
            record(*args, **kwargs)
        except Exception as exc:  # a metric is never worth a failed request or job
            log.warning("metric_not_recorded", metric=record.__name__, error=f"{exc.__class__.__name__}: {exc}"[:300])

    return safe


@_never_raises
def request_observe(*, route: str, method: str, status_code: int, seconds: float) -> None:
    http_requests.labels(route=route, method=method, status=f"{status_code // 100}xx").inc()
    http_request_duration.labels(route=route, method=method).observe(seconds)


@_never_raises
def money_decision_observe(*, decision: str, outcome: str, code: str = "") -> None:
    money_decisions.labels(decision=decision, outcome=outcome, code=code).inc()


@_never_raises
def batch_items_add(job: str, count: int) -> None:
    batch_items.labels(job=job).inc(count)


@_never_raises
def webhook_attempt_observe(*, result: str) -> None:
    webhook_attempts.labels(result=result).inc()


@_never_raises
def webhook_delivery_failed(*, event_type: str) -> None:
    webhook_deliveries_failed.labels(event_type=event_type).inc()


@_never_raises
def _batch_run_observe(job: str, outcome: str, seconds: float) -> None:
    batch_runs.labels(job=job, outcome=outcome).inc()
    batch_run_duration.labels(job=job).observe(seconds)


def batch_run(job: str) -> Callable:
    """Count and time each call of a batch job's entry point; a call returning None was `skipped`."""

    def decorate(run: Callable) -> Callable:
        @functools.wraps(run)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = run(*args, **kwargs)
            except BaseException:
                _batch_run_observe(job, "error", time.perf_counter() - started)
                raise
            _batch_run_observe(job, "skipped" if result is None else "completed", time.perf_counter() - started)
            return result

        return timed

    return decorate


class OutboxBacklog:
    """The after-commit jobs not yet handed to the broker, read at scrape time with one indexed query."""

    def collect(self):
        from django.db.models import Count, Min  # at scrape time: this module is imported before Django is set up
        from django.utils import timezone

        from core.models import OutboxJob

        try:
            # One query, served by the partial index on unsent rows (outbox_unsent_idx).
            backlog = OutboxJob.objects.filter(sent_at__isnull=True).aggregate(pending=Count("pk"), oldest=Min("created_at"))
        except Exception as exc:  # the database is away: the scrape still answers, without these two
            log.warning("outbox_backlog_unreadable", error=f"{exc.__class__.__name__}: {exc}"[:300])
            return
        pending = backlog["pending"]
        oldest_age = (timezone.now() - backlog["oldest"]).total_seconds() if backlog["oldest"] else 0.0
        yield GaugeMetricFamily("tuckbox_outbox_pending_jobs", "After-commit jobs not yet accepted by the broker.", value=pending)
        yield GaugeMetricFamily(
            "tuckbox_outbox_oldest_pending_age_seconds",
            "Age of the oldest after-commit job not yet accepted by the broker (0 when none).",
            value=float(oldest_age),
        )


def metrics_exposition() -> bytes:
    """The text exposition: every process's counters (or this one's), then the scrape-time gauges."""
    scrape_time = CollectorRegistry()
    scrape_time.register(OutboxBacklog())
    return _processes_exposition() + generate_latest(scrape_time)


def _processes_exposition() -> bytes:
    if not os.environ.get(MULTIPROC_ENV):
        return generate_latest(REGISTRY)
    try:
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        return generate_latest(processes)
    except (OSError, ValueError) as exc:  # the directory went away: answer with what can still be read
        log.warning("metrics_store_unreadable", error=f"{exc.__class__.__name__}: {exc}"[:300])
        return b""
