"""The serving engine takes the ring book: ring_score/ring_size per event, and members on
the watch list through the journal, following each new book."""

from __future__ import annotations

from pathlib import Path

from shopguard import Engine
from shopguard.lists.store import AddEntry, RemoveEntry, ops_decoder
from shopguard.rings.book import Ring, RingBook, book_path, save_book
from shopguard.rings.live import RING_TYPES, RingWatch
from tests.conftest import make_engine
from tests.rings.conftest import event


def _ring(engine: Engine, ring_id: str, accounts: list[str], score: float) -> Ring:
    entity = engine.desensitize.entity
    members = [entity("shop", "account", a) for a in accounts]
    return Ring(ring_id, "shop", score, members, [], 0.0, 0.0, link_types={"device": 1})


def _publish(engine: Engine, rings: list[Ring]) -> None:
    save_book(book_path(engine.settings.data_dir), RingBook(0.0, 0.0, 0.0, rings))
    engine.rings._next = float("-inf")  # as if seconds had passed


def _scope(engine: Engine, i: int, account: str) -> dict[str, object]:
    decision = engine.decide({**event(i, account), "type": "account.login"})
    return dict(decision.features)


def _ops(engine: Engine) -> list[AddEntry | RemoveEntry]:
    return [ops_decoder.decode(raw) for raw in engine.log.list_ops()]


def test_ring_values_follow_the_book_and_lists_go_through_the_journal(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path), explain=True)
    assert (
        _scope(engine, 0, "a1")["ring_score"] == 0.0 and _scope(engine, 1, "a1")["ring_size"] == 0
    )

    _publish(engine, [_ring(engine, "R-1", ["a1", "a2", "a3"], 0.7)])
    seen = _scope(engine, 2, "a1")
    assert (seen["ring_score"], seen["ring_size"]) == (0.7, 3)
    assert _scope(engine, 3, "b9")["ring_score"] == 0.0
    added = [op for op in _ops(engine) if isinstance(op, AddEntry)]
    assert len(added) == 3 and {op.entry.source for op in added} == {"rings"}
    assert {op.entry.list for op in added} == {"watch"} and "R-1" in added[0].entry.reason
    assert len(engine.lists.check({"tenant": "shop", "account": added[0].entry.value}, 0.0)) == 1

    _publish(engine, [_ring(engine, "R-2", ["a3", "a4"], 0.4)])
    seen = _scope(engine, 4, "a3")
    assert (seen["ring_score"], seen["ring_size"]) == (0.4, 2)
    assert _scope(engine, 5, "a1")["ring_size"] == 0
    removed = [op for op in _ops(engine) if isinstance(op, RemoveEntry)]
    assert len(removed) == 2 and {op.list for op in removed} == {"watch"}  # a1, a2
    engine.close()

    again = make_engine(decision_log="sqlite", data_dir=str(tmp_path), explain=True)
    assert again.rings.of("shop", again.desensitize.entity("shop", "account", "a4")) == (0.4, 2)
    watched = [e for e in again.lists.entries() if e.source == "rings"]
    assert len(watched) == 2 and all("R-2" in e.reason for e in watched)  # durable
    before = len(list(again.log.list_ops()))
    _scope(again, 6, "a4")
    assert len(list(again.log.list_ops())) == before  # the same book: nothing rewritten
    again.close()


def test_rules_and_the_model_may_read_the_ring_values() -> None:
    engine = make_engine()
    for name in RING_TYPES:
        assert name in engine.pack.schema


def test_the_file_is_looked_at_every_few_seconds_only(tmp_path: Path) -> None:
    clock = [0.0]
    watch = RingWatch(tmp_path / "rings.msgpack", 5.0, lambda: clock[0])
    engine = make_engine(data_dir=str(tmp_path))
    watch.poll(engine.lists, engine.log, 0.0)
    save_book(watch.path, RingBook(0.0, 0.0, 0.0, [_ring(engine, "R-1", ["a1", "a2"], 0.5)]))
    watch.poll(engine.lists, engine.log, 0.0)
    assert watch.book is None  # not yet
    clock[0] = 5.0
    watch.poll(engine.lists, engine.log, 0.0)
    assert watch.book is not None and watch.of("shop", watch.book.rings[0].members[0]) == (0.5, 2)
