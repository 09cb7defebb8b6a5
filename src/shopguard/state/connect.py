"""A Redis connection for what workers share besides feature state (claims, the change
stream), and the breaker that keeps an outage from costing a timeout per event.

While Redis is down, the first failure opens the breaker: every call until
``retry_every`` has passed fails at once with StateUnavailable (no network), then one
call tries again; the first that succeeds closes it. So an outage costs one timeout per
``retry_every``, not one per event, and service comes back on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import redis.cluster

from shopguard.errors import StateUnavailable

T = TypeVar("T")
RedisClient = redis.Redis | redis.cluster.RedisCluster
# what redis-py raises when a server does not answer, or answers "not now"
UNREACHABLE: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.BusyLoadingError,
    OSError,
)


def connect(url: str, *, cluster: bool = False, timeout: float = 0.5) -> RedisClient:
    """A client (no connection is made until its first command)."""
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if cluster:
        return redis.cluster.RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


class Breaker:
    """Fails fast for ``retry_every`` seconds after a failure (see the module doc)."""

    def __init__(self, retry_every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_every = retry_every
        self._clock = clock
        self._open_until = 0.0
        self.failure: str | None = None  # the last failure while open

    @property
    def closed(self) -> bool:
        return self.failure is None or self._clock() >= self._open_until

    def call(self, what: str, action: Callable[[], T]) -> T:
        """``action()``, or StateUnavailable at once while open or when it fails."""
        if not self.closed:
            raise StateUnavailable(f"{what}: {self.failure}", self.retry_every)
        try:
            result = action()
        except UNREACHABLE as exc:
            self.failure = f"redis unreachable ({type(exc).__name__}: {exc})"
            self._open_until = self._clock() + self.retry_every
            raise StateUnavailable(f"{what}: {self.failure}", self.retry_every) from None
        self.failure = None
        return result
