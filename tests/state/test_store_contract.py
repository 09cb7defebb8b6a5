"""One contract for every state store: the memory store and the Redis store (on the
machine's Redis, under a prefix of its own) read, fold, flush, forget and keep tenants
apart the same way. What only a shared store does (``drop``, empty snapshots) is
checked where ``shared`` says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from shopguard.features.distinct import DistinctSeries
from shopguard.features.series import EventSeries
from shopguard.state import StateStore, make_state_store
from shopguard.state.snapshot import encode_state
from tests.state.redis_stores import clear, machine_redis, unique_prefix

WIDTHS = [3, 1]  # group 0: three streams per account; group 1: account|campaign pairs
TTLS = [3600.0, 7200.0]


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        made = make_state_store("memory")
        made.layout(WIDTHS, TTLS)
        yield made
        return
    url, prefix = machine_redis(), unique_prefix()
    made = make_state_store("redis", url=url, prefix=prefix, timeout=2.0)
    made.layout(WIDTHS, TTLS)
    try:
        yield made
    finally:
        clear(url, prefix)


def data(row: list[Any] | None) -> bytes | None:
    """A row as data (the Redis store loads copies, the memory store its own objects)."""
    if row is None:
        return None
    return msgspec.msgpack.encode([None if s is None else encode_state(s) for s in row])


def series(*amounts: float) -> EventSeries:
    s = EventSeries(60, True, False)
    for i, amount in enumerate(amounts):
        s.add(float(i), amount, 3600, 100)
    return s


def spend(state: Any, facts: dict[str, Any], t: float) -> Any:
    """A fold as the plan compiles them: the state to keep (made on first use)."""
    state = state if state is not None else EventSeries(60, True, False)
    state.add(t, facts["amount"], 3600, 100)
    return state


def decide(store: StateStore, tenant: str, account: str, t: float, amount: float) -> None:
    """What the engine does with one event: load its rows, fold it into them."""
    facts = {"tenant": tenant, "time": t, "amount": amount}
    (row,) = store.load(tenant, [(0, account)])
    state = None if row is None else row[1]
    store.fold(tenant, facts, [((0, account), 1, state, spend)])


def test_absent_rows_and_missing_entities_load_as_none(store: StateStore) -> None:
    assert store.load("t", [(0, "a1"), (1, "a1|c1"), (0, None)]) == [None, None, None]
    assert len(store) == 0


def test_a_row_holds_every_stream_of_its_entity(store: StateStore) -> None:
    first, second = series(2.0), series(1.0, 5.0)
    store.save("t", [((0, "a1"), 2, first), ((0, "a1"), 0, second)])
    store.flush()
    assert data(store.load("t", [(0, "a1")])[0]) == data([second, None, first])
    assert store.load("t", [(0, "a2"), (1, "a1")]) == [None, None]  # groups are separate
    assert len(store) == 2


def test_tenants_never_share_a_row(store: StateStore) -> None:
    """A clear business id (campaign "newcomer") is the same string in every tenant;
    tenant and entity names may hold the key's own separators."""
    spent = series(3.0)
    store.save("b", [((1, "newcomer"), 0, spent)])
    store.save("x:y", [((0, "z"), 0, series(1.0))])
    store.flush()
    assert store.load("a", [(1, "newcomer")]) == [None]
    assert data(store.load("b", [(1, "newcomer")])[0]) == data([spent])
    assert store.load("x", [(0, "y:z"), (0, "y}:z")]) == [None, None]
    store.save("a", [((1, "newcomer"), 0, series(9.0))])
    store.flush()
    assert data(store.load("b", [(1, "newcomer")])[0]) == data([spent])
    assert len(store) == 3


def test_odd_entity_names_read_back(store: StateStore) -> None:
    odd = ["a:b", "{c}", "100%", "d}|e{", "f|g:h"]
    store.save("t", [((0, name), 0, series(float(i))) for i, name in enumerate(odd)])
    store.flush()
    rows = store.load("t", [(0, name) for name in odd])
    assert [data(r) for r in rows] == [data([series(float(i)), None, None]) for i in range(5)]


def test_folds_are_kept_and_seen_by_later_events(store: StateStore) -> None:
    store.prefetch([("t", [(0, "a1"), (1, "a1|c1")]), ("t", [(0, None)])])
    decide(store, "t", "a1", 1.0, 10.0)
    decide(store, "t", "a1", 2.0, 5.0)  # the same batch: sees the first
    (row,) = store.load("t", [(0, "a1")])
    assert row is not None and row[1].total(0.0) == 15.0
    store.flush()
    decide(store, "t", "a1", 3.0, 1.0)  # the next batch reads what the first wrote
    store.flush()
    (row,) = store.load("t", [(0, "a1")])
    assert row is not None and row[1].count(0.0) == 3 and row[1].total(0.0) == 16.0
    assert len(store) == 1


def test_a_fold_that_changes_nothing_stores_nothing(store: StateStore) -> None:
    store.load("t", [(0, "a1")])
    store.fold("t", {"time": 1.0}, [((0, "a1"), 0, None, lambda s, f, t: None)])
    store.fold("t", {"time": 1.0}, [])
    store.flush()
    assert store.load("t", [(0, "a1")]) == [None] and len(store) == 0


def test_a_dropped_batch_leaves_no_trace_in_a_shared_store(store: StateStore) -> None:
    if not store.shared:
        pytest.skip("the memory store folds in place: the engine rebuilds it instead")
    decide(store, "t", "a1", 1.0, 10.0)
    store.flush()
    decide(store, "t", "a1", 2.0, 5.0)
    store.drop()
    decide(store, "t", "a1", 3.0, 1.0)
    store.flush()
    (row,) = store.load("t", [(0, "a1")])
    assert row is not None and row[1].total(0.0) == 11.0


def test_forget_drops_rows_and_pairs_and_erases_from_distinct_sets(store: StateStore) -> None:
    def devices() -> DistinctSeries:
        seen = DistinctSeries()
        seen.add("a1", 0.0, 60, 100)
        seen.add("a2", 0.0, 60, 100)
        return seen

    store.save("t", [((0, "a1"), 0, series(1.0))])
    store.save("t", [((1, "a1|c1"), 0, series(1.0)), ((1, "c2|a1"), 0, series(1.0))])
    store.save("t", [((0, "d1"), 1, devices())])
    store.save("u", [((0, "a1"), 0, series(1.0)), ((0, "d1"), 1, devices())])
    store.flush()
    # its row, its pairs' rows, its place in d1's set (a stand-in: counts stay right)
    assert store.forget("t", "a1") == 4
    assert store.load("t", [(0, "a1"), (1, "a1|c1"), (1, "c2|a1")]) == [None, None, None]
    (d1,) = store.load("t", [(0, "d1")])
    assert d1 is not None and d1[1].count(-1) == 2 and "a1" not in (d1[1].seen or {})
    # another tenant's rows are not this erasure's to touch
    u = store.load("u", [(0, "a1"), (0, "d1")])
    assert u[0] is not None and u[1] is not None and u[1][1].count(-1) == 2
    assert "a1" in (u[1][1].seen or {})


def test_snapshots(store: StateStore) -> None:
    store.save("t", [((0, "a1"), 1, series(2.5))])
    store.flush()
    blob = store.snapshot()
    if store.shared:  # the rows live in Redis, not in the engine's snapshot
        assert blob == b""
        store.restore(blob)
        assert data(store.load("t", [(0, "a1")])[0]) == data([None, series(2.5), None])
        return
    copy = make_state_store("memory")
    copy.layout(WIDTHS, TTLS)
    copy.restore(blob)
    assert data(copy.load("t", [(0, "a1")])[0]) == data([None, series(2.5), None])
