"""Short-lived counters in Redis, through one redis-py client per process.

Django's Redis cache builds a new redis-py client object for every operation (with its table of
about 170 response callbacks): under cProfile about 5 % of a voucher redemption's web CPU, for the
failed-look-up check every redemption makes. A redis-py client is thread-safe and
its connection pool re-opens its connections after a fork, so one per server is enough. It has the
same server and socket timeouts as the cache (REDIS_URL, REDIS_*_TIMEOUT_SECONDS), and it raises
redis-py's RedisError as the cache does, so callers keep their fail-open handling.
"""

from functools import cache

import redis
from django.conf import settings

PREFIX = "tuckbox:counter:"


@cache
def _client(url: str, connect_timeout: float, socket_timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout)


def _redis() -> redis.Redis:
    # Keyed by the settings, so a test (or a settings override) pointing elsewhere gets its own client.
    return _client(settings.REDIS_URL, settings.REDIS_CONNECT_TIMEOUT_SECONDS, settings.REDIS_SOCKET_TIMEOUT_SECONDS)


def counter_value(name: str) -> int:
    """The counter's value now: 0 when it was never counted or its window has passed."""
    value = _redis().get(PREFIX + name)
    return int(value) if value is not None else 0


def counter_add_one(name: str, *, window_seconds: int) -> int:
    """Count one more, in a window that starts at the first count and lasts `window_seconds`.
    One round trip (MULTI: create with its expiry if absent, then increment); returns the new value."""
    key = PREFIX + name
    pipe = _redis().pipeline(transaction=True)
    pipe.set(key, 0, ex=window_seconds, nx=True)
    pipe.incr(key)
    return pipe.execute()[1]
