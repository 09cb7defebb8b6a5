"""The journal cannot write (a full disk, a lock held by another process): the request
is refused with StorageUnavailable and nothing of it stays, in memory or on disk; once
writes succeed again the engine decides as if the refused requests never came."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.errors import StorageUnavailable
from tests.conftest import TEST_KEYS, event, make_engine
from tests.state.disks import fill, locked, small_disk
from tests.state.test_durability import state_digest

ROOT = Path(__file__).resolve().parents[2]


def sms(event_id: str, at: float, phone: str = "13812345678", ip: str = "1.2.3.4") -> Any:
    return event("sms.send", event_id, at, phone=phone, ip=ip)


def durable_engine(data_dir: Path, **options: Any) -> Engine:
    return make_engine(
        decision_log="sqlite", data_dir=str(data_dir), journal_probe_every="0s", **options
    )


# min_free 4 MB: the batch is refused before it changes anything (the disk keeps under
# the reserve); 0: the commit itself fails, and memory is rebuilt from the journal.
RESERVES = pytest.mark.parametrize("reserve_mb", [4, 0], ids=["refused-first", "undone"])


@RESERVES
def test_sms_codes_refused_on_a_full_disk_are_not_counted(tmp_path: Path, reserve_mb: int) -> None:
    """The exploit: six codes failed on a full disk, yet the seventh was denied for them."""
    with small_disk(tmp_path / "disk", "8m") as disk:
        engine = durable_engine(disk, journal_min_free_mb=reserve_mb)
        assert engine.decide(sms("s0", 0)).outcome == "allow"
        ballast, store = fill(disk), engine.store
        for i in range(1, 7):
            with pytest.raises(StorageUnavailable) as refused:
                engine.decide(sms(f"s{i}", i))
            assert refused.value.kind == "full"
        assert engine.storage_problem() is not None
        assert (engine.store is store) == bool(reserve_mb)  # untouched, or rebuilt
        ballast.unlink()
        assert engine.storage_problem() is None
        # One code is durable, so four more pass and the next (five in the hour) is denied.
        outcomes = [engine.decide(sms(f"t{i}", 10 + i)).outcome for i in range(5)]
        assert outcomes == ["allow"] * 4 + ["deny"]
        assert engine.find("shop", "s1") is None  # refused: never decided, not remembered
        assert engine.decide(sms("s1", 20)).outcome == "deny"  # now decided, as a new code
        assert all(report.ok for report in engine.log.verify())  # no gap, no false alarm
        live = state_digest(engine)
        engine.close()
        reopened = durable_engine(disk)
        assert state_digest(reopened) == live  # memory held exactly what is durable
        reopened.close()


@RESERVES
def test_a_batch_refused_on_a_full_disk_leaves_no_list_entry_nor_dedupe(
    tmp_path: Path, reserve_mb: int
) -> None:
    with small_disk(tmp_path / "disk", "8m") as disk:
        engine = durable_engine(disk, journal_min_free_mb=reserve_mb)
        engine.decide(sms("warm", 0, phone="13900000000"))
        listed = sorted(map(repr, engine.lists.entries()))
        ballast = fill(disk)
        # One IP asking codes for twelve phones: the eleventh puts the IP on the deny list.
        pumping = [sms(f"p{i}", 1 + i, phone=f"1390000{i:04d}", ip="9.9.9.9") for i in range(12)]
        with pytest.raises(StorageUnavailable):
            engine.decide_many(pumping)
        assert sorted(map(repr, engine.lists.entries())) == listed
        assert engine.find("shop", "p0") is None
        ballast.unlink()
        decisions = engine.decide_many(pumping)  # the same batch, now durable
        assert [d.outcome for d in decisions].count("deny") == 2
        assert len(sorted(map(repr, engine.lists.entries()))) == len(listed) + 1
        assert all(report.ok for report in engine.log.verify())
        engine.close()


def test_a_lock_held_by_another_process_refuses_within_the_busy_timeout(tmp_path: Path) -> None:
    engine = durable_engine(tmp_path, journal_busy_timeout="0.05s")
    reader = engine.log.reader()  # type: ignore[attr-defined]
    assert reader.execute("PRAGMA busy_timeout").fetchone()[0] == 50  # not sqlite's 5 s
    engine.decide(sms("s0", 0))
    store = engine.store
    with locked(engine.settings.journal_path) as holder:
        with pytest.raises(StorageUnavailable) as refused:
            engine.decide(sms("s1", 1))
        assert refused.value.kind == "locked"
        assert engine.store is store  # refused before the event changed anything
        entries = len(engine.lists)
        with pytest.raises(StorageUnavailable):
            engine.list_add("deny", "ip", "5.6.7.8", tenant="shop", reason="manual")
        assert len(engine.lists) == entries and engine.store is store
        problem = engine.storage_problem()
        assert problem is not None and problem.kind == "locked"
        holder.release()
        assert engine.storage_problem() is None
    outcomes = [engine.decide(sms(f"t{i}", 10 + i)).outcome for i in range(5)]
    assert outcomes == ["allow"] * 4 + ["deny"]  # s1 was not counted
    assert all(report.ok for report in engine.log.verify())
    engine.close()


def test_the_busy_timeout_defaults_to_a_quarter_second(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    reader = engine.log.reader()  # type: ignore[attr-defined]
    assert reader.execute("PRAGMA busy_timeout").fetchone()[0] == 250
    engine.close()


def test_shopguard_decide_prints_one_line_when_the_journal_is_locked(tmp_path: Path) -> None:
    durable_engine(tmp_path).close()
    with locked(tmp_path / "decisions.db"):
        done = subprocess.run(
            [sys.executable, "-m", "shopguard.cli", "decide", "--data-dir", str(tmp_path), "-"],
            input='{"type":"sms.send","event_id":"c1","time":"2025-03-01T10:00:00Z",'
            '"tenant":"shop","phone":"13812345678","ip":"1.2.3.4"}',
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "SHOPGUARD_KEYS": "k1:" + TEST_KEYS["k1"]},
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == ["error: journal: database is locked"]
