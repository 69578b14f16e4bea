"""The one engine: PostgreSQL and Redis, required everywhere.

There is no fallback database. A system that behaves one way in the demo and another in
production hides defects in the gap (issue: one engine everywhere), so settings refuse to load
without both servers, and refuse any database that is not PostgreSQL, with a message that says
how to get one.
"""

import environ

HOW_TO_GET_THEM = (
    "`make run` and `make test` start PostgreSQL and Redis from pip wheels by themselves "
    "(scripts/with_services.py); elsewhere set DATABASE_URL=postgres://user:password@host:5432/name "
    "and REDIS_URL=redis://host:6379/0 (docs/operations.md)."
)
POSTGRESQL_ENGINE = "django.db.backends.postgresql"


def database_from_env(env: environ.Env) -> dict:
    url = env.str("DATABASE_URL", default="")
    if not url:
        raise environ.ImproperlyConfigured(f"DATABASE_URL is not set. {HOW_TO_GET_THEM}")
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise environ.ImproperlyConfigured(
            f"DATABASE_URL must be a PostgreSQL URL (postgres://...); got a '{scheme}' one. "
            f"Tuckbox runs on PostgreSQL only. {HOW_TO_GET_THEM}"
        )
    config = env.db_url_config(url)
    if config["ENGINE"] != POSTGRESQL_ENGINE:  # e.g. a PostGIS engine chosen by the scheme
        raise environ.ImproperlyConfigured(f"DATABASE_URL must select {POSTGRESQL_ENGINE}. {HOW_TO_GET_THEM}")
    return config


def redis_url_from_env(env: environ.Env) -> str:
    url = env.str("REDIS_URL", default="")
    if not url:
        raise environ.ImproperlyConfigured(f"REDIS_URL is not set. {HOW_TO_GET_THEM}")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise environ.ImproperlyConfigured(f"REDIS_URL must be a redis:// or rediss:// URL. {HOW_TO_GET_THEM}")
    return url
