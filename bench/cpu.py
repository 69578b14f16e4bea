"""Where the CPU went during a scenario: milliseconds of CPU per request, by process group.

Wall-clock throughput on a shared two-core machine moves with whatever else runs; the
CPU each request costs the web workers, PostgreSQL, Celery and the load generator
moves much less, so it is recorded beside the rates as the steadier comparison.
"""

import resource

from django.db import connection

from bench.stack import Stack, cpu_seconds


def _postgres_pids() -> list[int]:
    # Every process of our own cluster (backends and background workers); other clusters are not visible here.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity")
        return [row[0] for row in cursor.fetchall()]


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    def __init__(self, stack: Stack):
        self.stack = stack

    def _snapshot(self) -> dict[str, dict[int, float]]:
        groups = self.stack.cpu_by_process()
        # The outbox relay's CPU is background work as the worker's is: one `worker` figure, comparable
        # with the runs from before the relay, when the web published the jobs itself.
        groups["worker"] = {**groups.get("worker", {}), **groups.pop("relay", {})}
        groups["postgres"] = {pid: cpu_seconds(pid) for pid in _postgres_pids()}
        groups["loadgen"] = {0: _self_cpu()}
        return groups

    def start(self) -> None:
        try:
            self.before = self._snapshot()
        finally:
            connection.close()  # may run on a helper thread: leave no connection behind

    def stop(self, requests: int) -> dict:
        after = self._snapshot()
        connection.close()
        result = {}
        for group, pids in after.items():
            earlier = self.before.get(group, {})
            spent = sum(max(0.0, seconds - earlier.get(pid, 0.0)) for pid, seconds in pids.items())
            result[group] = round(spent * 1000 / requests, 2) if requests else None
        result["total"] = round(sum(v for v in result.values() if v), 2)
        return result
