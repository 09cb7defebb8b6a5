"""The spool (state/spool) against a real PostgreSQL the test kills with SIGKILL:
commits land in the spool while it is down and keep the writer's sequence, resends are
answered from it, the drain moves them in order, once, even after a crash between the
drain's commit and the spool's delete; without a spool an outage is a 503 that ends on
its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from shopguard.api import KeyStore, create_app
from shopguard.errors import StorageUnavailable
from shopguard.state.spool import SpoolingLog
from tests.servers import PostgresServer, postgres_server
from tests.state.outage import (
    configured_engine,
    ensure_up,
    held,
    kill,
    spooled,
    spooling_engine,
)
from tests.state.worker import events


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with postgres_server(tmp_path_factory.mktemp("pg")) as server:
        yield server


@pytest.fixture
def server(pg: PostgresServer) -> Iterator[PostgresServer]:
    ensure_up(pg)
    yield pg
    ensure_up(pg)  # a test that failed with the server down leaves it up for the next


def _answer(d: Any) -> tuple[str, str, float, list[str]]:
    return d.event_id, d.outcome, d.score, [r.code for r in d.reasons]


def test_an_outage_spools_in_sequence_and_the_drain_keeps_the_order(
    server: PostgresServer, tmp_path: Path
) -> None:
    stream = events(160)
    engine = spooling_engine(server, tmp_path, "order", background=False)
    log = engine.log
    assert isinstance(log, SpoolingLog)
    before = engine.decide_many(stream[:40])
    assert not log.spooling and len(log.spool) == 0
    kill(server)
    during = engine.decide_many(stream[40:80]) + engine.decide_many(stream[80:100])
    assert log.spooling and len(log.spool) == 60 and log.last_seq() == 100
    # a resend while it is down: the spooled decision, and one from before the outage
    assert _answer(engine.decide(stream[50])) == _answer(during[10])
    assert _answer(engine.decide(stream[5])) == _answer(before[5])
    assert engine.find("shop", "e70") == during[30]
    server.start()
    after = engine.decide_many(stream[100:120])  # not drained yet: behind the spool
    assert len(log.spool) == 80
    assert log.drain() == 80 and not log.spooling and len(log.spool) == 0
    after += engine.decide_many(stream[120:160])  # straight to the primary again
    assert len(log.spool) == 0
    rows = held(server, "order")
    assert [(w, s) for w, s, _ in rows] == [("w1", i) for i in range(1, 161)]
    assert [e for _, _, e in rows] == [d.event_id for d in before + during + after]
    assert all(report.ok for report in log.verify())  # one chain through the outage
    engine.close()


def test_a_crash_between_the_drain_and_the_spool_delete_doubles_nothing(
    server: PostgresServer, tmp_path: Path
) -> None:
    stream = events(90)
    engine = spooling_engine(server, tmp_path, "crash", background=False)
    log = engine.log
    assert isinstance(log, SpoolingLog)
    engine.decide_many(stream[:30])
    kill(server)
    engine.decide_many(stream[30:60])
    server.start()
    copy = tmp_path / "copy"  # the spool as it was when the drain committed
    shutil.copytree(tmp_path / "spool", copy)
    assert log.drain() == 30
    engine.close()  # ... and its delete never happened
    shutil.rmtree(tmp_path / "spool")
    copy.rename(tmp_path / "spool")
    assert spooled(tmp_path) == 30
    again = spooling_engine(server, tmp_path, "crash", background=False)
    assert spooled(tmp_path) == 0  # drained at start: all of it already held, skipped
    again.decide_many(stream[60:90])
    rows = held(server, "crash")
    assert [s for _, s, _ in rows] == list(range(1, 91))
    assert [e for _, _, e in rows] == [e["event_id"] for e in stream]
    again.close()


def test_a_restart_drains_the_spool_before_deciding(server: PostgresServer, tmp_path: Path) -> None:
    stream = events(60)
    engine = spooling_engine(server, tmp_path, "restart", background=False)
    engine.decide_many(stream[:20])
    kill(server)
    spooled_decisions = engine.decide_many(stream[20:40])
    engine.close()  # the drain at close fails: the spool stays on disk
    assert spooled(tmp_path) == 20
    server.start()
    again = spooling_engine(server, tmp_path, "restart", background=False)
    assert spooled(tmp_path) == 0 and again.log.last_seq() == 40
    # a resend of a spooled event after the restart: its decision, not a new one
    assert _answer(again.decide(stream[25])) == _answer(spooled_decisions[5])
    again.decide_many(stream[40:60])
    assert [s for _, s, _ in held(server, "restart")] == list(range(1, 61))
    again.close()


def test_readyz_says_degraded_while_spooling(server: PostgresServer, tmp_path: Path) -> None:
    engine = spooling_engine(server, tmp_path, "ready", drain_every=0.05)
    keys = KeyStore(tmp_path / "access.db")
    auth = {"Authorization": f"Bearer {keys.create('shop', ['decide'])[1]}"}
    stream = events(3)
    with TestClient(create_app(engine, keys), raise_server_exceptions=False) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        kill(server)
        answer = client.post("/v1/decisions", json=stream[0], headers=auth)
        assert answer.status_code == 200  # acknowledged: durable in the spool
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded: spooling"
        server.start()
        engine.log.drain()
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.post("/v1/decisions", json=stream[1], headers=auth).status_code == 200
    assert [e for _, _, e in held(server, "ready")] == ["e0", "e1"]


def test_without_a_spool_an_outage_is_a_503_that_recovers(
    server: PostgresServer, tmp_path: Path
) -> None:
    stream = events(30)
    engine = configured_engine(server, tmp_path, "nospool", "w1", spool=False)
    assert not isinstance(engine.log, SpoolingLog)
    engine.decide_many(stream[:10])
    kill(server)
    for batch in (stream[10:15], stream[15:20]):
        with pytest.raises(StorageUnavailable):
            engine.decide_many(batch)
    assert engine.storage_problem() is not None
    server.start()
    assert engine.storage_problem() is None  # a probe put it back by itself
    engine.decide_many(stream[10:30])  # the refused ones, decided now, once
    assert [s for _, s, _ in held(server, "nospool")] == list(range(1, 31))
    assert not (tmp_path / "spool").exists()
    engine.close()


def test_a_spool_left_by_another_writer_is_drained_into_its_chain(
    server: PostgresServer, tmp_path: Path
) -> None:
    stream = events(50)
    old = configured_engine(server, tmp_path, "adopt", "w-1234")  # a pid-named writer
    assert isinstance(old.log, SpoolingLog)
    old.decide_many(stream[:20])
    kill(server)
    old.decide_many(stream[20:40])
    old.close()  # it never comes back: its spool stays
    assert spooled(tmp_path, "w-1234") == 20
    server.start()
    new = configured_engine(server, tmp_path, "adopt", "w-5678")
    assert not (tmp_path / "spool" / "w-1234.db").exists()  # drained, then removed
    new.decide_many(stream[40:50])
    rows = held(server, "adopt")
    assert [(w, s) for w, s, _ in rows] == [("w-1234", i) for i in range(1, 41)] + [
        ("w-5678", i) for i in range(1, 11)
    ]
    assert [e for _, _, e in rows] == [e["event_id"] for e in stream]
    assert all(report.ok for report in new.log.verify())
    new.close()
    assert not list((tmp_path / "spool").glob("*.db"))  # an empty spool leaves no file
