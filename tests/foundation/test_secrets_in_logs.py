"""No secret reaches a log line or a Celery task's payload during the main flows.

The flows run through the API as clients run them: sign-in and refresh, a top-up paid through the
fake gateway and its signed webhook, a card funded and charged at a terminal, a voucher issued,
previewed and redeemed, a canteen pre-order, an event sign-up with a signature, and a webhook
subscription. Every log record is rendered by the project's own formatter (structlog JSON, stdlib
records included) at DEBUG, the access log on; every task is recorded with its args and kwargs as
it is published or, eagerly, run. Idempotency keys may appear; credentials may not.
"""

import io
import json
import logging
import uuid
from datetime import date

import pytest
import structlog
import time_machine
from celery import signals
from django.conf import settings as django_settings

from canteen.models import CanteenSettings, MenuItem
from config.celery import app as celery_app
from events.links import event_link_token
from tests.events.conftest import make_event, signup_body
from tests.factories import (
    TEST_PASSWORD,
    GuardianLinkFactory,
    MerchantFactory,
    SchoolFactory,
    StaffFactory,
    StudentCardFactory,
    StudentFactory,
)
from tests.vouchers.factories import approve, make_program
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db

MONDAY_MORNING = "2026-11-29T20:00:00Z"  # 07:00 in Sydney, a school day
WEDNESDAY = date(2026, 12, 2)
CARD_IDENTIFIER = "04A1B2C3D4E5F6"


class Captured:
    def __init__(self):
        self.log = io.StringIO()
        self.tasks: list[str] = []

    def record_task(self, name, args, kwargs):
        self.tasks.append(json.dumps({"task": name, "args": args, "kwargs": kwargs}, default=str))

    def lines(self) -> list[str]:
        return [line for line in self.log.getvalue().splitlines() if line] + self.tasks


@pytest.fixture
def captured(settings):
    """Every log record through the project's structured formatter, and every task payload."""
    settings.ACCESS_LOG = True
    formatter_config = dict(django_settings.LOGGING["formatters"]["structured"])
    formatter = formatter_config.pop("()")(**formatter_config)
    capture = Captured()
    handler = logging.StreamHandler(capture.log)
    handler.setFormatter(formatter)
    handler.addFilter(lambda record: not record.name.startswith("factory"))  # the test's own factories, not the app
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def published(sender=None, body=None, headers=None, **_):
        args, kwargs = (body[0], body[1]) if isinstance(body, (list, tuple)) else (body, {})
        capture.record_task(sender, args, {**kwargs, "headers": headers})

    def ran(sender=None, args=None, kwargs=None, **_):
        capture.record_task(sender.name, args, kwargs)

    signals.before_task_publish.connect(published, weak=False)
    signals.task_prerun.connect(ran, weak=False)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield capture
    finally:
        celery_app.conf.task_always_eager = eager
        signals.task_prerun.disconnect(ran)
        signals.before_task_publish.disconnect(published)
        root.setLevel(level)
        root.removeHandler(handler)


def _key() -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def _ok(response, status=(200, 201, 202)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.content[:500]
    return response.json()


def run_main_flows(api_client, client_for, terminal_client, settings, run_on_commit) -> list[str]:
    """Drive the main flows; return every secret they handed out or used."""
    settings.PAYMENT_GATEWAY = "fake"
    settings.STRIPE_SECRET_KEY = "sk_test_secretsScanKey0123456789"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_secretsScanWebhookSecret0123"
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    secrets = [TEST_PASSWORD, settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET, CARD_IDENTIFIER]

    school = SchoolFactory(time_zone="Australia/Sydney", postcode="2000")
    student = StudentFactory(school=school, first_name="Mia", year_level=4, roll_class="4B", date_of_birth=date(2016, 4, 2))
    link = GuardianLinkFactory(student=student, guardian__postcode="2010")
    StudentCardFactory(student=student, identifier=CARD_IDENTIFIER)
    staff = StaffFactory(school=school, roles=["admin", "canteen", "teacher", "finance"])
    canteen_merchant = MerchantFactory(school=school, categories=["canteen"])
    CanteenSettings.objects.create(school=school, merchant=canteen_merchant)
    wrap = MenuItem.objects.create(school=school, name="Chicken wrap", price=650, category="lunch")

    # Sign in with a password, then rotate the refresh token.
    tokens = _ok(api_client.post("/api/v1/auth/token", {"email": link.guardian.user.email, "password": TEST_PASSWORD}, format="json"))
    rotated = _ok(api_client.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"))
    secrets += [tokens["access"], tokens["refresh"], rotated["access"], rotated["refresh"]]
    guardian = client_for(link.guardian.user)
    admin = client_for(staff.user)
    secrets += [guardian.tokens["access"], guardian.tokens["refresh"], admin.tokens["access"], admin.tokens["refresh"]]

    # A webhook subscription first, so the money below has deliveries to sign and send.
    with Receiver() as receiver:
        subscription = _ok(admin.post("/api/v1/webhooks/subscriptions", {"url": receiver.url, "event_types": ["card.charged", "wallet.topup_succeeded", "canteen.order_placed", "event.signup_confirmed"]}, format="json"))
        secrets.append(subscription["secret"])

        # A top-up paid through the fake gateway, credited by its signed webhook.
        topup = _ok(guardian.post("/api/v1/wallet/topups", {"amount": 5000}, format="json", **_key()))
        if topup.get("client_secret"):
            secrets.append(topup["client_secret"])
        with run_on_commit():
            _ok(guardian.post(f"/api/v1/wallet/topups/{topup['id']}/simulate", {"outcome": "succeeded"}, format="json"))

        # Money onto the card, and a sale at the canteen counter with a terminal key.
        with run_on_commit():
            _ok(guardian.post(f"/api/v1/students/{student.pk}/card/fund", {"amount": 2000}, format="json", **_key()))
        counter = terminal_client(canteen_merchant)
        secrets.append(counter.raw_key)
        with run_on_commit():
            _ok(counter.post("/api/v1/terminal/charges", {"card_identifier": CARD_IDENTIFIER, "amount": 350, "categories": ["canteen"]}, format="json", **_key()))

        # A voucher: issued to the guardian, shown as a QR code, previewed and redeemed at a provider.
        program = make_program(admin=None)
        provider = MerchantFactory(name="Harbourside Swim Club", categories=["sport"])
        approve(program, provider)
        with run_on_commit():
            [voucher] = _ok(guardian.post(f"/api/v1/voucher-programs/{program.pk}/applications", {"student_id": student.pk, "declare_residency": True}, format="json", **_key()))
        code = _ok(guardian.get(f"/api/v1/vouchers/{voucher['id']}/code"))
        secrets.append(code["payload"])
        desk = terminal_client(provider)
        secrets.append(desk.raw_key)
        _ok(desk.post("/api/v1/terminal/vouchers/preview", {"qr": code["payload"]}, format="json"))
        with run_on_commit():
            _ok(desk.post("/api/v1/terminal/voucher-redemptions", {"vouchers": [{"qr": code["payload"]}], "amount": 5000}, format="json", **_key()))

        # Wednesday's lunch, ordered on Monday morning.
        with run_on_commit():
            _ok(guardian.post(f"/api/v1/students/{student.pk}/orders", {"service_date": WEDNESDAY.isoformat(), "items": [{"item_id": wrap.pk, "quantity": 1}]}, format="json", **_key()))

        # An excursion, opened from the emailed link, signed up for with a drawn signature.
        event = make_event(staff, cost=0)
        link_token = event_link_token(event_id=event.pk, user_id=link.guardian.user_id)
        secrets.append(link_token)
        _ok(api_client.get(f"/api/v1/event-links/{link_token}"))
        with run_on_commit():
            _ok(guardian.post(f"/api/v1/events/{event.pk}/signups", signup_body(event, student.pk), format="json", **_key()))
    return secrets


def _fragments(secret: str) -> list[str]:
    """The secret, and for tokens each part long enough to identify it (a JWT's signature, a key's secret)."""
    parts = [secret] + [part for sep in (".", "_", ":") for part in secret.split(sep) if len(part) >= 16]
    return list(dict.fromkeys(parts))


def test_no_secret_reaches_a_log_line_or_a_task_payload(
    captured, api_client, client_for, terminal_client, settings, django_capture_on_commit_callbacks
):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        secrets = run_main_flows(
            api_client, client_for, terminal_client, settings, lambda: django_capture_on_commit_callbacks(execute=True)
        )
    lines = captured.lines()

    assert len(lines) > 20 and any('"event": "request"' in line for line in lines)
    assert captured.tasks, "the flows enqueue tasks: the probe must see them"
    leaks = [(fragment[:12] + "...", line[:300]) for secret in secrets for fragment in _fragments(secret) for line in lines if fragment in line]
    assert leaks == [], "\n".join(f"{fragment}: {line}" for fragment, line in leaks)


def test_credentials_are_masked_by_their_shape_in_messages_and_tracebacks(captured):
    try:
        raise RuntimeError("refused key tbx_term_ab12cd34_SeCrEtPaRtOfTheKey0123")
    except RuntimeError:
        structlog.get_logger("api.request").exception("unhandled_exception", path="/api/v1/event-links/eyJlIjo1fQ:1x:SiGnAtUrE")
    logging.getLogger("django.request").error("Internal Server Error: %s", "/api/v1/event-links/eyJlIjo1fQ:1x:SiGnAtUrE")
    logging.getLogger("stripe").warning("retrying with sk_test_51AbCdEfGhIjKlMnOp and whsec_AbCdEf0123456789")

    output = captured.log.getvalue()

    for secret in ("SeCrEtPaRtOfTheKey0123", "SiGnAtUrE", "51AbCdEfGhIjKlMnOp", "AbCdEf0123456789"):
        assert secret not in output
    assert output.count("/api/v1/event-links/[redacted]") == 2
    assert "tbx_term_[redacted]" in output and "sk_test_[redacted]" in output and "whsec_[redacted]" in output
