"""Settings for `make bench`: the production settings, plus the baseline endpoint.

Everything else comes from config.settings and the environment exactly as in
production (PostgreSQL, Redis, Celery workers, DEBUG off), so the numbers are the
production stack's. BENCH_ENABLED only routes /bench/baseline (bench/urls.py), whose two tables
are bench.models (unmanaged: bench.datagen creates them).
"""

from config.settings import *  # noqa: F403

BENCH_ENABLED = True
# The baseline's (unmanaged) models; nothing else of bench/ is ever imported by the application.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
