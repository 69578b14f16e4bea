"""Run one callable from many threads at the same instant, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_concurrently(work, count: int):
    """Call `work(i)` for i in range(count) from `count` threads released together; return the results in order."""
    barrier = threading.Barrier(count)

    def one(i):
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
