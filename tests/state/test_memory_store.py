"""The memory state store: one row of states per entity (or entity pair)."""

from __future__ import annotations

import hashlib

import msgspec

from shopguard.features.baseline import RateBaseline
from shopguard.features.distinct import DistinctSeries
from shopguard.features.outstanding import Outstanding
from shopguard.features.sequence import PendingSeries
from shopguard.features.series import EventSeries
from shopguard.state.memory import MemoryStateStore
from shopguard.state.snapshot import decode_state, encode_rows, encode_state

GOLDEN = "8308529bd99432ada8b3bb8c1d34214f9795e22a412ee58f2ad6a921b2a30b81"


def _store() -> MemoryStateStore:
    store = MemoryStateStore()
    store.layout([3, 1])  # group 0: three streams per account; group 1: account|campaign
    return store


def test_a_row_holds_every_stream_of_its_entity() -> None:
    store = _store()
    assert store.load("t", [(0, "a1"), (1, "a1|c1"), (0, None)]) == [None, None, None]
    first, second = EventSeries(60, False, False), EventSeries(60, True, False)
    store.save("t", [((0, "a1"), 2, first), ((0, "a1"), 0, second)])
    assert store.load("t", [(0, "a1")]) == [[second, None, first]]
    assert store.load("t", [(0, "a2"), (1, "a1")]) == [None, None]  # groups are separate
    assert len(store) == 2


def test_tenants_never_share_a_row() -> None:
    """A clear business id (campaign "newcomer") is the same string in every tenant."""
    store = _store()
    spent = EventSeries(60, True, False)
    store.save("b", [((1, "newcomer"), 0, spent)])
    assert store.load("a", [(1, "newcomer")]) == [None]
    assert store.load("b", [(1, "newcomer")]) == [[spent]]
    store.save("a", [((1, "newcomer"), 0, EventSeries(60, True, False))])
    assert store.load("b", [(1, "newcomer")]) == [[spent]]
    assert len(store) == 2


def test_forget_drops_rows_and_pairs_and_erases_from_distinct_sets() -> None:
    store = _store()
    devices = DistinctSeries()
    devices.add("a1", 0.0, 60, 100)
    store.save("t", [((0, "a1"), 0, EventSeries(60, False, False))])
    store.save("t", [((1, "a1|c1"), 0, EventSeries(60, False, False))])
    store.save("t", [((0, "d1"), 1, devices)])
    other = DistinctSeries()
    other.add("a1", 0.0, 60, 100)
    store.save("u", [((0, "a1"), 0, EventSeries(60, False, False)), ((0, "d1"), 1, other)])
    assert store.forget("t", "a1") == 3  # its row, its pair's row, its place in d1's set
    assert store.load("t", [(0, "a1"), (1, "a1|c1")]) == [None, None]
    assert devices.count(-1) == 1 and "a1" not in (devices.seen or {})
    # another tenant's rows are not this erasure's to touch
    assert store.load("u", [(0, "a1")])[0] is not None and other.count(-1) == 1


def test_snapshot_round_trip() -> None:
    store = _store()
    series = EventSeries(60, True, False)
    series.add(5.0, 2.5, 60, 100)
    store.save("t", [((0, "a1"), 1, series)])
    copy = MemoryStateStore()
    copy.layout([3, 1])
    copy.restore(store.snapshot())
    row = copy.load("t", [(0, "a1")])[0]
    assert row is not None and row[1].total(0.0) == 2.5 and len(copy) == 1
    assert copy.load("u", [(0, "a1")]) == [None]


def _every_kind_of_state() -> list[object]:
    series = EventSeries(3600, True, True)
    series.add(10.0, 5.0, 3600, 100)
    series.add(20.0, 7.5, 3600, 100)
    exact = DistinctSeries()
    exact.add("a1", 10.0, 3600, 100)
    sketched = DistinctSeries()
    for i in range(5):
        sketched.add(f"a{i}", 10.0 + i, 3600, 3)  # past the bound: a sliding HyperLogLog
    baseline = RateBaseline()
    baseline.add(10.0, 3600, 0.5)
    owed = Outstanding()
    owed.open("s1", 10.0, 3.5, 3600, 100)
    pending = PendingSeries()
    pending.first_seen(10.0, 3600, 100)
    return [series, exact, sketched, baseline, owed, pending]


def test_states_encode_to_the_same_bytes_in_both_builds() -> None:
    """Snapshots move between the pure and the compiled build (setup.py): each state
    encodes as a tagged array of its plain fields (msgpack, no pickle). CI runs this under
    both; the digest is the pure build's."""
    states = _every_kind_of_state()
    blob = msgspec.msgpack.encode([encode_state(s) for s in states])
    assert hashlib.sha256(blob).hexdigest() == GOLDEN
    again = [decode_state(encode_state(s)) for s in states]
    assert [type(s) for s in again] == [type(s) for s in states]
    assert msgspec.msgpack.encode([encode_state(s) for s in again]) == blob
    store = _store()
    store.save("shop", [((0, "a1"), i % 3, s) for i, s in enumerate(states[:3])])
    store.save("shop", [((1, "a1|c1"), 0, states[3])])
    assert encode_rows(store._data) == store.snapshot()  # type: ignore[attr-defined]
