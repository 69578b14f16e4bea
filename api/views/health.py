"""Liveness and readiness: the database, and Redis when it is configured."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {exc.__class__.__name__}"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def healthz(request):
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value in {"ok", "not_configured"} for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)
