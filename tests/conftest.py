"""Shared fixtures: engines on memory or a temp data dir, and the ../shared data sets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_KEYS = {"k1": "test-secret-key-0123456789abcdef"}


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data, or skip with a clear message (CI always has it)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing under CI: {path}")
        pytest.skip(f"shared data not found: {path} (../shared/data beside the project)")
    return path


def make_engine(**overrides: Any) -> Engine:
    options: dict[str, Any] = {"decision_log": "memory", "keys": TEST_KEYS, "active_key": "k1"}
    options.update(overrides)
    return Engine.from_config(**options)


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = make_engine()
    yield e
    e.close()


def event(type_: str, event_id: str, at: float = 0.0, **fields: Any) -> dict[str, Any]:
    """An event dict at ``at`` seconds after 2025-03-01T10:00:00Z."""
    from datetime import UTC, datetime, timedelta

    when = datetime(2025, 3, 1, 10, tzinfo=UTC) + timedelta(seconds=at)
    return {"type": type_, "event_id": event_id, "tenant": "shop", "time": when, **fields}
