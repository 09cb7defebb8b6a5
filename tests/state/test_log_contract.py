"""One contract for every decision log: SQLite, PostgreSQL and (where it applies) memory
answer the same operations alike: commit and discard, finding by event and seq, list
changes in commit order, labels and merchant health, search, erasure, snapshots, and
retention (thin, compact) that keeps the chains verifiable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.labels import Label
from shopguard.state.memory import MemoryDecisionLog
from shopguard.state.postgres import PostgresDecisionLog
from shopguard.state.protocol import DecisionLog, LogRecord
from shopguard.state.search import DecisionQuery
from shopguard.state.sqlite import SqliteDecisionLog
from tests.conftest import event, make_engine
from tests.state.pg import DSN, pg_schema

T0 = datetime(2025, 3, 1, 10, tzinfo=UTC).timestamp()
DAY = 86400.0
KEY = bytes(range(32))


class Backend:
    def __init__(self, name: str, folder: Path, schema: str) -> None:
        self.name, self.folder, self.schema = name, folder, schema
        self.durable = name != "memory"

    def log(self, writer: str = "w1") -> DecisionLog:
        if self.name == "memory":
            return MemoryDecisionLog(keep_records=True)
        if self.name == "sqlite":
            return SqliteDecisionLog(self.folder / "decisions.db")
        return PostgresDecisionLog(DSN, self.schema, writer=writer, key=KEY)

    def engine(self, **overrides: Any) -> Engine:
        options = {"decision_log": self.name, "data_dir": str(self.folder)}
        if self.name == "postgres":
            options |= {"postgres_dsn": DSN, "postgres_schema": self.schema, "writer": "w1"}
        return make_engine(**options, **overrides)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param != "postgres":
        yield Backend(request.param, tmp_path, "")
        return
    with pg_schema("contract") as schema:
        yield Backend("postgres", tmp_path, schema)


def durable(backend: Backend) -> None:
    if not backend.durable:
        pytest.skip("the memory log keeps decisions only for the dedupe window")


def problems(log: Any, but: str = "-") -> list[Any]:
    """What ``verify`` finds (SQLite and PostgreSQL logs), but for tables named ``but``."""
    return [r for r in log.verify() if not r.ok and not r.table.startswith(but)]


def record(seq: int, at: float = 0.0, kind: str = "payment", outcome: int = 0,
           ops: list[bytes] | None = None, **facts: Any) -> LogRecord:  # fmt: skip
    facts = {"tenant": "t1", "event_id": f"e{seq}", **facts}
    return LogRecord(seq, "t1", f"e{seq}", T0 + at, kind, outcome, facts, None, ops or [])


def sms(i: int, at: float, **fields: Any) -> dict[str, Any]:
    return event("sms.send", f"s{i}", at, phone=f"1380000{i % 3:04d}", ip="1.2.3.4", **fields)


def test_committed_decisions_are_found_by_event_and_by_seq(backend: Backend) -> None:
    engine = backend.engine()
    decided = engine.decide_many([sms(i, i * 10.0) for i in range(6)])
    log = engine.log
    assert log.last_seq() == 6
    assert log.find("shop", "s2") == decided[2] and log.decision(4) == decided[3]
    assert log.find("shop", "nope") is None and log.find("other", "s2") is None
    facts = log.facts_of("shop", "s4")
    assert facts is not None and facts["event_id"] == "s4"
    if backend.durable:
        assert log.seq_of("shop", "s5") == 6
        assert [r.seq for r in log.records_after(3)] == [4, 5, 6]
    engine.close()


def test_discard_keeps_nothing_and_puts_the_sequence_back(backend: Backend) -> None:
    durable(backend)
    log = backend.log()
    log.append(record(1, phone="p1"))
    log.commit()
    log.append(record(2, phone="p2", ops=[b'{"op":1}']))
    assert log.last_seq() == 2
    assert log.discard() is True and log.discard() is False
    assert log.last_seq() == 1
    assert [r.seq for r in log.records_after(0)] == [1] and list(log.list_ops()) == []
    log.append(record(2, phone="p3"))  # the chain goes on from the committed record
    log.commit()
    assert [r.facts["phone"] for r in log.records_after(0)] == ["p1", "p3"]
    assert problems(log) == []
    log.close()


def test_list_changes_come_back_in_commit_order(backend: Backend) -> None:
    log = backend.log()
    log.append_list_op(b"first")
    log.commit()
    log.append(record(1, ops=[b"second", b"third"]))
    log.append_list_op(b"fourth")
    log.commit()
    assert list(log.list_ops()) == [b"first", b"second", b"third", b"fourth"]
    log.close()


def test_labels_and_merchant_health_agree_with_the_recomputation(backend: Backend) -> None:
    log, reference = backend.log(), MemoryDecisionLog()
    rows = [(1, "m1", 0, 100.0), (2, "m1", 3, 50.0), (3, "m2", 2, 80.0), (4, "m1", 0, 20.0)]
    for seq, merchant, outcome, amount in rows:
        for target in (log, reference):
            target.append(record(seq, seq * 60.0, outcome=outcome, merchant=merchant,
                                 amount=amount))  # fmt: skip
    log.commit()
    cases = [("e1", "chargeback", 30.0, 1.0), ("e3", "fraud", 80.0, 2.0), ("e1", "legit", 0, 3.0)]
    for event_id, kind, loss, known in cases:
        label = Label(tenant="t1", kind=kind, known_at=T0 + known * DAY, event_id=event_id,
                      loss=loss)  # fmt: skip
        log.add_label(label)
        reference.add_label(label)
    assert list(log.labels("t1")) == list(reference.labels("t1")) and not list(log.labels("x"))
    for known_by in (None, T0 + 1.5 * DAY):
        args = ("t1", T0, T0 + DAY, known_by)
        assert log.merchant_health(*args) == reference.merchant_health(*args)
    log.close()


def _ids(found: list[Any]) -> list[str]:
    return [d.event_id for d in found]


def test_search_by_entity_rule_and_outcome_pages_newest_first(backend: Backend) -> None:
    engine, reference = backend.engine(), make_engine()
    stream = [sms(i, i * 5.0) for i in range(12)]
    decided = engine.decide_many(stream)
    reference.decide_many(stream)
    entity = engine.log.facts_of("shop", "s1")
    assert entity is not None
    queries = [
        DecisionQuery(tenant="shop"),
        DecisionQuery(tenant="shop", entity=f"phone:{entity['phone']}"),
        DecisionQuery(tenant="shop", outcome="deny"),
        DecisionQuery(tenant="shop", since=T0 + 20, until=T0 + 40),
        *[DecisionQuery(tenant="shop", rule=r.rule) for r in decided[-1].reasons[:1]],
    ]
    for q in queries:
        want = _ids(reference.search(q).decisions)
        assert _ids(engine.search(q).decisions) == want, q
        paged, before = [], None
        while True:  # two at a time, following next_before
            page = engine.search(DecisionQuery(**{**_fields(q), "limit": 2, "before": before}))
            paged += _ids(page.decisions)
            if page.next_before is None:
                break
            before = page.next_before
        assert paged == want
    engine.close()


def _fields(q: DecisionQuery) -> dict[str, Any]:
    return {f: getattr(q, f) for f in q.__struct_fields__}


def test_erasure_redacts_the_entity_and_keeps_the_chain(backend: Backend) -> None:
    engine = backend.engine()
    engine.decide_many([sms(i, i * 10.0, account=f"acct{i % 2}") for i in range(6)])
    engine.list_add("deny", "account", "acct1", tenant="shop", reason="test")
    facts = engine.log.facts_of("shop", "s1")
    assert facts is not None
    counts = engine.log.erase("shop", "account", facts["account"])
    assert counts["decisions"] == 3 and counts["list_ops"] == 1
    after = engine.log.facts_of("shop", "s1")
    assert after is not None and "account" not in after
    search = DecisionQuery(tenant="shop", entity=f"account:{facts['account']}")
    assert engine.log.search(search).decisions == []
    if backend.durable:
        assert problems(engine.log) == []
    engine.close()


def test_a_snapshot_comes_back_and_a_forged_one_does_not(backend: Backend) -> None:
    log = backend.log()
    assert log.load_snapshot() is None
    log.save_snapshot(5, b"state")
    assert log.load_snapshot() == (5, b"state")
    log.close()


def test_retention_thins_and_drops_old_records_and_the_chain_still_verifies(
    backend: Backend,
) -> None:
    durable(backend)
    log = backend.log()
    for day in range(4):  # four days, three records a day: rule-free, quiet
        for n in range(3):
            seq = day * 3 + n + 1
            log.append(record(seq, day * DAY + n * 60, phone=f"p{seq}", amount=1.0))
        log.commit()
    log.save_snapshot(12, b"state")
    assert log.thin(T0 + 3 * DAY, 12) == 9  # days 0-2 (none has a rule term)
    assert log.facts_of("t1", "e4") is None and log.facts_of("t1", "e10") is not None
    assert log.compact(T0 + 2 * DAY, 12) == 6  # days 0 and 1
    assert [r.seq for r in log.records_after(0)] == [10, 11, 12]  # day 2 is thinned
    assert log.size()[0] == 6
    assert problems(log, but="snapshot") == []  # (the test's snapshot is not a real one)
    log.append(record(13, 4 * DAY))
    log.commit()
    assert problems(log, but="snapshot") == []
    log.close()
