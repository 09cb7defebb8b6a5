"""The connection to Redis (one server or a cluster) and its breaker: every call is a
batch of script calls sent in one round trip (a pipeline per node), and while Redis does
not answer each raises StateUnavailable at once, Redis being tried again at most every
``retry_every`` seconds.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError
from redis.retry import Retry

from shopguard.errors import StateUnavailable
from shopguard.state.redis.scripts import SOURCES

Call = tuple[list[str], list[Any]]  # one script call: its keys and ARGV
# What says Redis is unreachable (a script error or a bad reply is a bug: it propagates)
_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
_DOWN_CLUSTER = (*_DOWN, redis.exceptions.ClusterError, redis.exceptions.ClusterDownError)


class Link:
    def __init__(self, url: str, cluster: bool, timeout: float, retry_every: float) -> None:
        self.url, self.cluster, self.timeout, self.retry_every = url, cluster, timeout, retry_every
        self._client: Any = None  # made on first use: a cluster client connects at once
        self.down = _DOWN_CLUSTER if cluster else _DOWN
        self._down_until = 0.0
        self._why = ""

    def client(self) -> Any:
        if self._client is None:
            options: dict[str, Any] = {
                "socket_timeout": self.timeout,
                "socket_connect_timeout": self.timeout,
                "retry": Retry(NoBackoff(), 1),  # once, for a connection Redis closed
            }
            if self.cluster:
                self._client = RedisCluster.from_url(self.url, **options)
            else:
                self._client = redis.Redis.from_url(self.url, **options)
        return self._client

    def _closed(self) -> None:
        now = time.monotonic()
        if now < self._down_until:
            raise StateUnavailable(f"redis unreachable: {self._why}", self._down_until - now)

    def run(self, what: str, calls: list[Call], sha: str) -> list[Any]:
        """Run the script calls in one round trip (a pipeline per node), or raise
        StateUnavailable: at once while the breaker is open, else when Redis fails."""
        self._closed()
        try:
            return self._scripts(sha, calls)
        except self.down as exc:
            self._why = f"{type(exc).__name__}: {exc}"
            self._down_until = time.monotonic() + self.retry_every
            raise StateUnavailable(f"redis {what} failed: {self._why}", self.retry_every) from None

    def _scripts(self, sha: str, calls: list[Call]) -> list[Any]:
        client = self.client()
        results = self._pipeline(client, sha, calls)
        missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missing:  # a new or restarted Redis: load the script and run those again
            client.script_load(SOURCES[sha])
            again = self._pipeline(client, sha, [calls[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def _pipeline(self, client: Any, sha: str, calls: list[Call]) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args)
        return list(pipe.execute(raise_on_error=False))

    def by_slot(self, keys: list[str]) -> list[list[int]]:
        """Indexes of ``keys`` per script call: all in one, or one call per cluster slot."""
        if not self.cluster:
            return [list(range(len(keys)))]
        slots: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            slots.setdefault(key_slot(key.encode()), []).append(i)
        return list(slots.values())

    def scan(self, match: str) -> list[str]:
        """Every key matching (every node's), or StateUnavailable."""
        self._closed()
        try:
            return [k.decode() for k in self.client().scan_iter(match=match, count=1000)]
        except self.down as exc:
            raise StateUnavailable(f"redis scan failed: {exc}", self.retry_every) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
