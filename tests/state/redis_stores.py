"""Redis state stores for tests: on the machine's own Redis under a prefix of their own
(skipped when it is down, failed under CI=true), removed with their keys afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import redis

from shopguard.state.redis import RedisStateStore
from tests.servers import need_service

LOCAL = "redis://127.0.0.1:6379/0"


def unique_prefix() -> str:
    return f"sgtest-redis-{uuid.uuid4().hex[:10]}"


def machine_redis() -> str:
    need_service("redis", 6379)
    return LOCAL


def clear(url: str, prefix: str) -> int:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


def redis_store(url: str, prefix: str, **options: Any) -> RedisStateStore:
    options.setdefault("timeout", 2.0)
    return RedisStateStore(url=url, prefix=prefix, **options)


def stores_on(url: str, prefix: str, count: int, **options: Any) -> Iterator[RedisStateStore]:
    """``count`` stores (workers) sharing the prefix."""
    for _ in range(count):
        yield redis_store(url, prefix, **options)
