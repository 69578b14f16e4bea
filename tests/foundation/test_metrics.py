"""/metrics: what real operations make it count, who may read it, and that it never breaks a write."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core import metrics
from core.metrics_dir import multiproc_dir_prepare
from core.models import OutboxJob
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory, give_card_money, give_wallet_money
from tests.metrics_scrape import moved, scrape, value
from tests.webhooks.conftest import subscribe
from wallet import accounts

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
MONITORING = "10.20.0.7"
PUBLIC = "203.0.113.9"


@pytest.fixture
def charging(terminal_client):
    link = GuardianLinkFactory()
    StudentCardFactory(student=link.student, identifier="CARD-0000-0077")
    give_card_money(link.student, 1000)
    terminal = terminal_client(MerchantFactory(school=link.student.school))

    def charge(amount, key=None):
        return terminal.post(
            "/api/v1/terminal/charges",
            {"card_identifier": "CARD-0000-0077", "amount": amount, "categories": ["canteen"], "description": "Lunch"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )

    charge.link = link
    return charge


def test_charges_are_counted_by_route_status_class_and_decision(charging, django_capture_on_commit_callbacks):
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = charging(300, key="sale-1")
        replayed = charging(300, key="sale-1")
        declined = charging(5000)  # more than the card holds
    assert (accepted.status_code, replayed.status_code, declined.status_code) == (201, 201, 402)
    assert declined.json()["code"] == "insufficient_funds"
    after = scrape()

    route = {"route": "terminal-charges", "method": "POST"}
    assert moved(before, after, "tuckbox_http_requests_total", **route, status="2xx") == 2
    assert moved(before, after, "tuckbox_http_requests_total", **route, status="4xx") == 1
    assert moved(before, after, "tuckbox_http_request_duration_seconds_count", **route) == 3
    assert moved(before, after, "tuckbox_http_request_duration_seconds_bucket", **route, le="+Inf") == 3
    # The replay answered 201 again but decided nothing new.
    assert moved(before, after, "tuckbox_money_decisions_total", decision="card_charge", outcome="accepted", code="") == 1
    assert moved(before, after, "tuckbox_money_decisions_total", decision="card_charge", outcome="declined", code="insufficient_funds") == 1
    # Bounded labels: the route's name, never the path with its ids.
    assert not [key for key in after if any(value.startswith("/") for _, value in key[1])]


def test_funding_and_top_ups_are_decisions_too(client_for):
    link = GuardianLinkFactory()
    StudentCardFactory(student=link.student)
    give_wallet_money(link.guardian, 500)
    client = client_for(link.guardian.user)
    before = scrape()
    funded = client.post(f"/api/v1/students/{link.student.pk}/card/fund", {"amount": 400}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    short = client.post(f"/api/v1/students/{link.student.pk}/card/fund", {"amount": 400}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    tiny = client.post("/api/v1/wallet/topups", {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert (funded.status_code, short.status_code, short.json()["code"]) == (201, 402, "insufficient_funds")
    assert tiny.status_code in (400, 422), tiny.content
    after = scrape()

    assert moved(before, after, "tuckbox_money_decisions_total", decision="card_fund", outcome="accepted", code="") == 1
    assert moved(before, after, "tuckbox_money_decisions_total", decision="card_fund", outcome="declined", code="insufficient_funds") == 1
    assert moved(before, after, "tuckbox_money_decisions_total", decision="topup", outcome="declined", code=tiny.json()["code"]) == 1
    assert moved(before, after, "tuckbox_http_requests_total", route="card-fund", method="POST", status="2xx") == 1


def test_an_unknown_path_is_one_unmatched_series_not_one_per_path():
    before = scrape()
    from django.test import Client

    for path in ("/nope/1", "/nope/2", "/api/v1/students/999999/../x"):
        Client().get(path)
    after = scrape()
    assert moved(before, after, "tuckbox_http_requests_total", route="unmatched", method="GET", status="4xx") == 3


def test_the_outbox_backlog_is_read_at_scrape_time(charging, settings, django_capture_on_commit_callbacks):
    """No relay running (as in a Redis outage): the charge commits and answers 201, its webhook job waits in
    the outbox, and /metrics shows it."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS, settings.WEBHOOKS_REQUIRE_HTTPS = True, False
    subscribe("http://127.0.0.1:9/hooks", ["card.charged"], school=charging.link.student.school)

    with django_capture_on_commit_callbacks(execute=True):
        response = charging(250)
    assert response.status_code == 201, response.content
    assert accounts.student_card_account(charging.link.student).balance == 750
    waiting = OutboxJob.objects.filter(sent_at__isnull=True)
    assert waiting.filter(task="core.tasks.deliver_webhook").count() == 1
    waiting.update(created_at=timezone.now() - timedelta(minutes=10))

    scraped = scrape()
    assert value(scraped, "tuckbox_outbox_pending_jobs") == waiting.count()
    assert 600 <= value(scraped, "tuckbox_outbox_oldest_pending_age_seconds") < 660


def test_a_broken_metrics_store_never_turns_a_committed_charge_into_a_500(charging, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    for counter in (metrics.http_requests, metrics.http_request_duration, metrics.money_decisions):
        monkeypatch.setattr(counter, "labels", disk_full)
    response = charging(400)
    assert response.status_code == 201, response.content
    assert accounts.student_card_account(charging.link.student).balance == 600


def test_a_missing_multiprocess_directory_costs_data_points_not_requests(tmp_path):
    """In multiprocess mode a metric's file is opened on first use: a directory gone is an OSError, swallowed."""
    code = (
        "from core import metrics\n"
        "metrics.request_observe(route='terminal-charges', method='POST', status_code=201, seconds=0.01)\n"
        "metrics.money_decision_observe(decision='card_charge', outcome='accepted')\n"
        "metrics.webhook_attempt_observe(result='delivered')\n"
        "print('answered')\n"
    )
    result = _python(code, tmp_path / "gone")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("answered")
    assert "metric_not_recorded" in result.stdout + result.stderr


def test_every_process_counts_into_one_scrape(tmp_path, monkeypatch):
    """gunicorn's workers and Celery's each write their own files; /metrics adds them up."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    code = "from core import metrics\nfor _ in range({n}):\n    metrics.money_decision_observe(decision='voucher_redeem', outcome='accepted')\n"
    for n in (2, 3):
        result = _python(code.format(n=n), directory)
        assert result.returncode == 0, result.stderr
    assert len(list(directory.glob("counter_*.db"))) == 2

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    scraped = scrape()
    assert value(scraped, "tuckbox_money_decisions_total", decision="voucher_redeem", outcome="accepted", code="") == 5


def test_a_scrape_with_the_multiprocess_directory_gone_still_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "gone"))
    scraped = scrape()
    assert ("tuckbox_outbox_pending_jobs", frozenset()) in scraped
    assert not [key for key in scraped if key[0].startswith("tuckbox_http_")]


def test_starting_drops_the_files_of_dead_processes_and_keeps_the_living(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    for name in (f"counter_{dead}.db", f"histogram_{dead}.db", f"counter_{os.getpid()}.db"):
        (tmp_path / name).write_bytes(b"\0" * 8)
    multiproc_dir_prepare(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"counter_{os.getpid()}.db"]


def _python(code: str, directory: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


# --- Who may read it ---------------------------------------------------------------


def test_a_public_caller_is_refused(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.20.0.0/16"]
    refused = client.get("/metrics", REMOTE_ADDR=PUBLIC)
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "permission_denied"
    assert b"tuckbox_" not in refused.content
    assert client.get("/metrics", REMOTE_ADDR=MONITORING).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_a_request_through_the_proxy_is_public_even_from_loopback(client):
    """The TLS proxy connects from 127.0.0.1: what it forwards must not inherit the loopback's trust."""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=PUBLIC).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_FORWARDED=f"for={PUBLIC}").status_code == 403


def test_a_bearer_token_opens_it_from_anywhere_and_a_wrong_one_does_not(client, settings):
    token = "scraper-" + uuid.uuid4().hex + uuid.uuid4().hex
    settings.METRICS_BEARER_TOKENS = [token]
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION=f"Bearer {token}x").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    settings.METRICS_BEARER_TOKENS = []
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_by_default_only_loopback_may_scrape_and_the_scraper_is_never_redirected_to_https(settings):
    assert settings.METRICS_ALLOWED_NETWORKS == ["127.0.0.1/32", "::1/128"]
    assert settings.METRICS_BEARER_TOKENS == []
    assert r"^metrics$" in settings.SECURE_REDIRECT_EXEMPT
