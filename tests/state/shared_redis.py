"""Engines sharing the machine's Redis (127.0.0.1:6379) under a prefix of their own,
deleted afterwards; and reading what a store holds as the features an event would see."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import redis

from shopguard import Engine
from tests.conftest import make_engine
from tests.servers import need_service

URL = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def redis_prefix(name: str) -> Iterator[str]:
    """A fresh key prefix on the machine's Redis (skips when it is down), cleaned up."""
    need_service("redis", 6379)
    prefix = f"rengine-{name}-{uuid.uuid4().hex[:8]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def worker(prefix: str, url: str = URL, **overrides: Any) -> Engine:
    """One worker: its own engine and memory journal, state in Redis under ``prefix``."""
    options: dict[str, Any] = {"state_store": "redis", "redis_url": url, "redis_prefix": prefix}
    return make_engine(**{**options, **overrides})


def features_of(engine: Engine, raw: dict[str, Any]) -> dict[str, Any]:
    """The feature values ``raw`` would read from the engine's store, deciding nothing."""
    facts, _ = engine.desensitize(engine.admit(_decoded(raw)))
    values, _ = engine.plans[facts["type"]].read(facts, engine.store.load)
    engine.store.drop()  # rows read for this look only
    return values


def _decoded(raw: dict[str, Any]) -> Any:
    from shopguard.events import decode_event

    return decode_event(raw)
