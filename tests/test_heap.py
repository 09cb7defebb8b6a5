"""A snapshot must not leave RSS higher for good (issue 13, hole 10): the pages of the
blobs it frees go back to the OS."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from shopguard.heap import give_back
from tests.conftest import event, make_engine

MB = 1 << 20


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _freed_in_the_heap() -> bytes:
    """What a snapshot leaves: large blocks served from glibc's heap, freed below a live
    one. Returns the live block (keep it while measuring)."""
    del_me = b"x" * (30 * MB)  # freeing a first large (mmapped) block raises the threshold
    del del_me
    blocks = [b"x" * MB for _ in range(80)]  # now from the heap, written
    pin = bytes(1000)  # a live block above them: the heap's top cannot shrink
    del blocks
    return pin


def test_a_checkpoint_gives_the_pages_of_freed_blobs_back(tmp_path: Path) -> None:
    if not give_back():
        pytest.skip("no malloc_trim here (not glibc)")
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path), snapshot_every=0)
    engine.decide(event("account.login", "l1", account="a1", success=True))
    base = _rss()
    pin = _freed_in_the_heap()
    kept = _rss() - base
    assert kept > 10 * MB  # the scenario holds: freed, yet resident
    engine.checkpoint()
    assert _rss() - base < kept / 2
    del pin
    engine.close()
