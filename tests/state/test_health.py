"""Storage errors become StorageUnavailable; failures are logged once per kind per
interval; a down journal is probed at most once per interval and recovers by itself."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from shopguard.errors import StorageUnavailable
from shopguard.state.health import Throttled, WriteHealth, storage_error


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_sqlite_storage_errors_are_storage_unavailable_and_bugs_are_not() -> None:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t(x BLOB)")
    db.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as full:
        db.execute("INSERT INTO t VALUES (zeroblob(100000))")
    unavailable = storage_error(full.value)
    assert unavailable is not None and unavailable.kind == "full"
    with pytest.raises(sqlite3.OperationalError) as bug:
        db.execute("SELECT * FROM missing")
    assert storage_error(bug.value) is None
    assert storage_error(OSError(28, "No space left on device")) is not None


def test_failures_are_logged_once_per_kind_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    lines = Throttled(logging.getLogger("test.throttled"), 10.0, clock)
    with caplog.at_level(logging.WARNING, "test.throttled"):
        assert lines.warning("full", "disk full")
        assert not any(lines.warning("full", "disk full") for _ in range(500))
        assert lines.warning("locked", "locked")  # another kind has its own interval
        clock.now += 10.0
        assert lines.warning("full", "disk full")
    assert [r.getMessage() for r in caplog.records] == [
        "disk full",
        "locked",
        "disk full (500 more like this in the last 10s)",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_down_journal_is_probed_once_per_interval_and_comes_back() -> None:
    clock, probes = Clock(), []
    broken = True

    def probe() -> None:
        probes.append(clock.now)
        if broken:
            raise StorageUnavailable("journal: database or disk is full", "full")

    health = WriteHealth(probe, 1.0, clock)
    health.check()  # up: no probe
    health.failed(StorageUnavailable("journal: database or disk is full", "full"))
    for _ in range(100):  # refused at once, without touching the journal
        with pytest.raises(StorageUnavailable) as refused:
            health.check()
        assert refused.value.retry_after == 1.0
    assert probes == []
    clock.now += 1.0
    assert health.problem() is not None and probes == [101.0]
    broken = False
    assert health.problem() is not None and len(probes) == 1  # the next probe is not due
    clock.now += 1.0
    assert health.problem() is None and len(probes) == 2
    health.check()
    assert len(probes) == 2
