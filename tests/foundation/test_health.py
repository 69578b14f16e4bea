"""/healthz: 200 while the database (and Redis, when configured) answer; 503 otherwise."""

import socket

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def health():
    return APIClient().get("/healthz")


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the PostgreSQL run provides Redis")
def test_healthy_when_the_database_and_redis_answer():
    response = health()

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_without_redis_configured_only_the_database_counts(settings):
    settings.REDIS_URL = ""

    response = health()

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not_configured"}}


def test_unreachable_redis_is_503(settings):
    # A port bound but not listening refuses connections, and nobody else can take it meanwhile.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.REDIS_URL = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"

        response = health()

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "error: ConnectionError"}}
