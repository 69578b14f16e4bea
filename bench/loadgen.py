"""The load generator: a small asyncio HTTP/1.1 client and a closed loop of N concurrent clients.

One tool for the baseline and every scenario. Gunicorn's sync workers close the
connection after each response, so every request opens its own connection (as
requests from a load balancer to sync workers do); its latency is measured from
before the connect to the last byte.

Stdlib only, and cheap per request, so the client takes as little as possible
of the two cores it shares with the server.
"""

import asyncio
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    body: bytes
    started: float  # time.time() when the request started (wall clock: compared with server deadlines)
    latency_ms: float

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def code(self) -> str | None:
        data = self.json()
        return data.get("code") if isinstance(data, dict) else None


class Client:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60):
        self.host, self.port, self.timeout = host, port, timeout
        self._host_header = f"Host: {host}:{port}\r\nConnection: close\r\nUser-Agent: tuckbox-bench\r\n"

    async def request(self, method: str, path: str, *, headers: dict | None = None, json_body=None) -> Reply:
        body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        head = [f"{method} {path} HTTP/1.1\r\n", self._host_header]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n")
        if json_body is not None:
            head.append(f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
        head.append("\r\n")
        started_wall = time.time()
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
            try:
                writer.write("".join(head).encode() + body)
                data = await asyncio.wait_for(reader.read(-1), self.timeout)
            finally:
                writer.close()
        except (TimeoutError, OSError) as exc:
            return Reply(0, repr(exc).encode(), started_wall, (time.perf_counter() - started) * 1000)
        latency = (time.perf_counter() - started) * 1000
        status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
        _, _, payload = data.partition(b"\r\n\r\n")
        return Reply(status, payload, started_wall, latency)


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    first_started: float | None = None
    last_finished: float | None = None

    def record(self, reply: Reply, *, ok: bool) -> None:
        now = time.perf_counter()
        if self.first_started is None:
            self.first_started = now - reply.latency_ms / 1000
        self.last_finished = now
        self.latencies.append(reply.latency_ms)
        self.statuses[reply.status] += 1
        if not ok:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{reply.status} {reply.body[:300].decode(errors='replace')}")

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def summary(self, *, elapsed: float | None = None) -> dict:
        ordered = sorted(self.latencies)
        if elapsed is None:
            elapsed = (self.last_finished - self.first_started) if self.first_started is not None else 0
        return {
            "requests": len(ordered),
            "seconds": round(elapsed, 2),
            "rps": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95),
            "p99_ms": percentile(ordered, 99),
            "max_ms": round(ordered[-1], 1) if ordered else None,
            "errors": self.errors,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "error_samples": self.error_samples,
        }


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


async def closed_loop(step, *, concurrency: int, duration: float, warmup: float, warmup_step=None, on_start=None) -> Stats:
    """`concurrency` clients each run `await step(stats)` back to back: first for `warmup`
    seconds into a throw-away Stats, then for `duration` seconds into the one returned.
    A step records each request it makes; steps started before the deadline finish."""

    async def run(target: Stats, seconds: float, body) -> None:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < deadline:
                await body(target)

        await asyncio.gather(*(client() for _ in range(concurrency)))

    if warmup > 0:
        await run(Stats(), warmup, warmup_step or step)
    if on_start is not None:
        await on_start()
    stats = Stats()
    started = time.perf_counter()
    await run(stats, duration, step)
    stats.first_started = started
    return stats
