"""Sending deliveries: one HTTP attempt at a time, retried on a schedule of about three days.

An attempt claims its delivery with a guarded UPDATE (status pending and due), which pushes
`next_attempt_at` forward by a lease: two workers never send the same delivery at once, and
a worker that dies mid-attempt leaves it due again when the lease ends. The outcome:

- 2xx: succeeded. Receivers should answer fast and work afterwards.
- 410 Gone: the subscription is disabled and its pending deliveries are cancelled.
- anything else (other statuses, redirects, timeouts, refused targets): retried after the
  next delay of RETRY_DELAYS; after the last one the delivery has failed.

Every attempt is logged with the status and the start of the body that came back, and counted
in `tuckbox_webhook_attempts_total` by result (core/metrics.py).
"""

import json
import time
from datetime import timedelta

import requests
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F

from core import clock, metrics
from core.models_webhooks import WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent, WebhookSubscription
from core.webhooks import signing
from core.webhooks.errors import WebhookUrlInvalid, WebhookUrlNotAllowed
from core.webhooks.targets import url_check

log = structlog.get_logger("core.webhooks")

# Wait after attempt n fails (n = 1, 2, ...): 11 attempts over 71.6 hours.
RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=18),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(minutes=2)
# How long the delivery log is kept: long enough to look into a failure after the retries ran out.
LOG_RETENTION = timedelta(days=30)
EXCERPT_CHARS = 500
USER_AGENT = "Tuckbox-Webhooks/1.0 (+https://tuckbox.dev/docs/api#webhooks)"


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body: the same bytes on every attempt."""
    event = delivery.event
    created_at = event.created_at.isoformat().replace("+00:00", "Z")
    envelope = {
        "id": str(event.id),
        "type": event.type,
        "created_at": created_at,
        "timestamp": created_at,  # the Standard Webhooks payload's name for it
        "api_version": "v1",
        "school_id": event.school_id,
        "program_id": event.program_id,
        "data": event.data,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def delivery_headers(delivery: WebhookDelivery, body: bytes, *, attempt: int) -> dict[str, str]:
    """Standard Webhooks' three (the event id is `webhook-id`: one message, however many attempts), and ours."""
    now = clock.now()
    signed = signing.signature_headers(
        message_id=str(delivery.event_id), signing_secrets=delivery.subscription.signing_secrets(now=now), timestamp=now, body=body
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed,
        "Tuckbox-Event-Id": str(delivery.event_id),
        "Tuckbox-Event-Type": delivery.event.type,
        "Tuckbox-Delivery-Id": str(delivery.pk),
        "Tuckbox-Delivery-Attempt": str(attempt),
    }


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt if the delivery is pending and due; otherwise do nothing. Safe to run twice."""
    now = clock.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + LEASE
    )
    delivery = WebhookDelivery.objects.select_related("event", "subscription").filter(pk=delivery_id).first()
    if not claimed or delivery is None:
        return delivery
    if not delivery.subscription.is_active:
        _finish(delivery, status=WebhookDelivery.Status.CANCELLED, error="subscription_disabled")
        return delivery
    outcome = _send(delivery)
    WebhookDeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now, **outcome)
    status_code = outcome["response_status"]
    if status_code is not None and 200 <= status_code < 300:
        _finish(delivery, status=WebhookDelivery.Status.SUCCEEDED, delivered_at=clock.now(), **_last(outcome))
    elif status_code == 410:
        _finish(delivery, status=WebhookDelivery.Status.FAILED, **_last(outcome))
        subscription_disable_gone(subscription_id=delivery.subscription_id)
    elif delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, status=WebhookDelivery.Status.FAILED, **_last(outcome))
    else:
        _finish(
            delivery,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=clock.now() + RETRY_DELAYS[delivery.attempts - 1],
            **_last(outcome),
        )
    metrics.webhook_attempt_observe(result=_result(outcome))
    if delivery.status == WebhookDelivery.Status.FAILED:
        metrics.webhook_delivery_failed(event_type=delivery.event.type)
    log.info(
        "webhook_attempt",
        delivery_id=delivery.pk,
        event_type=delivery.event.type,
        attempt=delivery.attempts,
        response_status=status_code,
        error=outcome["error"],
        status=delivery.status,
    )
    return delivery


def _send(delivery: WebhookDelivery) -> dict:
    """POST the delivery; never raises. Returns the attempt's log fields."""
    started = time.monotonic()
    body = delivery_body(delivery)
    outcome = {"response_status": None, "response_body_excerpt": "", "error": ""}
    try:
        url_check(delivery.subscription.url)
        headers = delivery_headers(delivery, body, attempt=delivery.attempts)
        with requests.post(
            delivery.subscription.url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOKS_READ_TIMEOUT_SECONDS),
            allow_redirects=False,
            stream=True,
        ) as response:
            outcome["response_status"] = response.status_code
            outcome["response_body_excerpt"] = _excerpt(response)
    except (WebhookUrlInvalid, WebhookUrlNotAllowed) as exc:
        outcome["error"] = f"target_refused: {exc.message}"[:300]
    except requests.Timeout:
        outcome["error"] = "timeout"
    except requests.RequestException as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:300]
    except Exception as exc:  # an attempt must be logged and rescheduled whatever went wrong
        log.exception("webhook_attempt_crashed", delivery_id=delivery.pk)
        outcome["error"] = f"{type(exc).__name__}"[:300]
    outcome["duration_ms"] = int((time.monotonic() - started) * 1000)
    return outcome


def _result(outcome: dict) -> str:
    """A bounded label for the attempt's result."""
    status_code, error = outcome["response_status"], outcome["error"]
    if status_code is not None:
        if 200 <= status_code < 300:
            return "delivered"
        if status_code == 410:
            return "gone"
        return "redirect" if 300 <= status_code < 400 else f"http_{status_code // 100}xx"
    if error == "timeout":
        return "timeout"
    return "target_refused" if error.startswith("target_refused") else "connection_error"


def _excerpt(response: requests.Response) -> str:
    try:
        raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
    except Exception:
        return ""
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _last(outcome: dict) -> dict:
    return {
        "response_status": outcome["response_status"],
        "response_body_excerpt": outcome["response_body_excerpt"],
        "last_error": outcome["error"],
    }


def _finish(delivery: WebhookDelivery, *, status: str, next_attempt_at=None, **fields) -> None:
    fields = {"status": status, "next_attempt_at": next_attempt_at, **fields}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def subscription_disable_gone(*, subscription_id: int) -> None:
    """The receiver said 410 Gone: stop sending, and cancel what was still waiting."""
    now = clock.now()
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription_id, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=WebhookSubscription.DisabledReason.GONE, updated_at=now
        )
        deliveries_cancel(subscription_id=subscription_id, error="subscription_gone")
    log.warning("webhook_subscription_disabled", subscription_id=subscription_id, reason="gone")


def deliveries_cancel(*, subscription_id: int, error: str) -> int:
    return WebhookDelivery.objects.filter(subscription_id=subscription_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None, last_error=error
    )


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (including any whose lease ran out), oldest first."""
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=clock.now())
    return list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])


def webhook_events_purge(*, older_than: timedelta = LOG_RETENTION) -> int:
    """Forget events (and their deliveries and attempt logs) once nothing about them is pending."""
    old = WebhookEvent.objects.filter(created_at__lt=clock.now() - older_than).exclude(deliveries__status=WebhookDelivery.Status.PENDING)
    deleted, _ = WebhookEvent.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:5000])).delete()
    return deleted
