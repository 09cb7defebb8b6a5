"""The memory state store: one row of states per entity (or entity pair)."""

from __future__ import annotations

from shopguard.features.distinct import DistinctSeries
from shopguard.features.series import EventSeries
from shopguard.state.memory import MemoryStateStore


def _store() -> MemoryStateStore:
    store = MemoryStateStore()
    store.layout([3, 1])  # group 0: three streams per account; group 1: account|campaign
    return store


def test_a_row_holds_every_stream_of_its_entity() -> None:
    store = _store()
    assert store.load([(0, "a1"), (1, "a1|c1"), (0, None)]) == [None, None, None]  # type: ignore[list-item]
    first, second = EventSeries(60, False, False), EventSeries(60, True, False)
    store.save([((0, "a1"), 2, first), ((0, "a1"), 0, second)])
    assert store.load([(0, "a1")]) == [[second, None, first]]
    assert store.load([(0, "a2"), (1, "a1")]) == [None, None]  # groups are separate
    assert len(store) == 2


def test_forget_drops_rows_and_pairs_and_erases_from_distinct_sets() -> None:
    store = _store()
    devices = DistinctSeries()
    devices.add("a1", 0.0, 60, 100)
    store.save([((0, "a1"), 0, EventSeries(60, False, False))])
    store.save([((1, "a1|c1"), 0, EventSeries(60, False, False))])
    store.save([((0, "d1"), 1, devices)])
    assert store.forget("a1") == 3  # its row, its pair's row, its place in d1's set
    assert store.load([(0, "a1"), (1, "a1|c1")]) == [None, None]
    assert devices.count(-1) == 1 and "a1" not in (devices.seen or {})


def test_snapshot_round_trip() -> None:
    store = _store()
    series = EventSeries(60, True, False)
    series.add(5.0, 2.5, 60, 100)
    store.save([((0, "a1"), 1, series)])
    copy = MemoryStateStore()
    copy.layout([3, 1])
    copy.restore(store.snapshot())
    row = copy.load([(0, "a1")])[0]
    assert row is not None and row[1].total(0.0) == 2.5 and len(copy) == 1
