"""Gunicorn for production (`Procfile`, `make stack`, `make bench`).

Sync workers, two per core: a request holds its worker for its whole duration,
which is what Django's ORM and the row locks of the money paths are built for.
Put a proxy (nginx, a cloud load balancer) in front: it buffers slow clients and
keeps connections alive, which sync workers do not.
"""

import gc
import multiprocessing
import os
from pathlib import Path

from core.metrics_dir import multiproc_dir_from_env

# The workers add up their metrics through files in this directory (docs/operations.md, Metrics). It is set
# here, before the application (and prometheus_client) is imported; files left by dead processes are dropped.
multiproc_dir_from_env(default=Path(__file__).resolve().parent.parent / "var" / "prometheus")

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
# Import the application once in the master: workers fork from it and share its memory pages.
preload_app = True
# Above PostgreSQL's statement_timeout (settings.DATABASE_STATEMENT_TIMEOUT_SECONDS), so a request stuck in a
# query is answered by our 503 problem+json rather than killed by gunicorn with an HTML 500.
statement_timeout = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT_SECONDS", "20"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", str(int(statement_timeout) + 10)))
if statement_timeout > 0 and timeout <= statement_timeout:
    raise ValueError("GUNICORN_TIMEOUT must exceed DATABASE_STATEMENT_TIMEOUT_SECONDS")
graceful_timeout = 20
# Queue of connections waiting for a worker (the load balancer's retries land here under a spike).
backlog = 2048
# Recycle a worker after this many requests (0: never): a cap on slow leaks, jittered so they don't restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max(max_requests // 10, 0)
# The application logs one JSON access line per request (api.middleware); gunicorn's own would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """A worker's live gauges leave with it; its counters stay in the sums (prometheus_client multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def pre_fork(server, worker):
    """Freeze what the preloaded application made (about 175,000 objects) before each fork.

    Python's collector then never walks them again in a worker: a full collection over them took about
    100 ms, a pause landing on whichever request was running (docs/performance.md, "Collector pauses").
    The frozen pages also stay shared with the master, since collections no longer write to them."""
    gc.freeze()
