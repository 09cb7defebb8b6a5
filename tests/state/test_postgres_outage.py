"""PostgreSQL outages with an engine deciding all along (issue 16, item 5): the server is
SIGKILLed mid-stream and restarted, and the engine process itself is SIGKILLed while it
drains. Every decision acknowledged is held by the journal exactly once, in order, the
chain verifies, and the decisions are those of a run that saw no outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shopguard.state.spool import SpoolingLog
from tests.conftest import make_engine
from tests.servers import PostgresServer, postgres_server
from tests.state.outage import ensure_up, held, journal, kill, spooled, spooling_engine
from tests.state.worker import KEYS, events

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with postgres_server(tmp_path_factory.mktemp("pg")) as server:
        yield server


@pytest.fixture
def server(pg: PostgresServer) -> Iterator[PostgresServer]:
    ensure_up(pg)
    yield pg
    ensure_up(pg)


def _answers(decisions: list[Any]) -> list[tuple[str, str, float, list[str]]]:
    return [(d.event_id, d.outcome, d.score, [r.code for r in d.reasons]) for d in decisions]


def _exactly_once(server: PostgresServer, schema: str, acknowledged: list[str]) -> None:
    rows = held(server, schema)
    counts = Counter(e for _, _, e in rows)
    assert [e for e in acknowledged if counts[e] != 1] == []  # none lost, none doubled
    assert [s for _, s, _ in rows] == list(range(1, len(rows) + 1))  # one unbroken chain
    assert [e for _, _, e in rows] == acknowledged  # in acknowledgement order


def test_a_server_killed_mid_stream_loses_and_doubles_nothing(
    server: PostgresServer, tmp_path: Path
) -> None:
    stream = events(1200)
    engine = spooling_engine(server, tmp_path, "stream")
    log = engine.log
    assert isinstance(log, SpoolingLog)
    decided: list[Any] = []
    outage = threading.Event()

    def kill_and_restart() -> None:
        while len(decided) < 300:
            time.sleep(0.001)
        server.kill()  # wherever the engine is: mid-commit too
        outage.set()
        time.sleep(0.4)
        server.start()

    chaos = threading.Thread(target=kill_and_restart)
    chaos.start()
    resent_while_down = False
    for i in range(0, len(stream), 24):
        decided += engine.decide_many(stream[i : i + 24])
        if not resent_while_down and outage.is_set() and len(log.spool):
            n = len(decided)  # resends of events from before and during the outage
            again = [engine.decide(e) for e in stream[: n : max(1, n // 40)]]
            assert _answers(again) == _answers(decided[: n : max(1, n // 40)])
            resent_while_down = len(log.spool) > 0
    chaos.join()
    deadline = time.monotonic() + 20
    while log.spooling and time.monotonic() < deadline:
        time.sleep(0.02)
    assert resent_while_down and not log.spooling  # it did spool, and drained it all
    _exactly_once(server, "stream", [d.event_id for d in decided])
    assert all(report.ok for report in log.verify())
    engine.close()
    reference = make_engine(keys=KEYS, active_key="k1")  # the same stream, no outage
    assert _answers(reference.decide_many(stream)) == _answers(decided)


def _worker(
    tmp_path: Path, dsn: str, start: int, stop: int, pause: int = -1
) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.state.spool_worker", str(tmp_path), dsn, "kill"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # this run's shopguard
    argv += [str(start), str(stop), "25", str(pause)]
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _acks(proc: subprocess.Popen[str], until: str, on_ack: Any = None) -> list[str]:
    acked = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ack "):
            acked.append(line[4:].strip())
            if on_ack is not None:
                on_ack(len(acked))
        elif line.strip() == until:
            return acked
    raise AssertionError(f"worker ended before {until!r}: exit {proc.wait()}")


def _writer_free(server: PostgresServer) -> None:
    """Wait until the killed worker's session (and its writer lock) is gone."""
    deadline = time.monotonic() + 10
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'")
            if row.fetchone() == (0,):
                return
            time.sleep(0.02)
    raise AssertionError("the killed worker's writer lock was not released")


def test_an_engine_killed_mid_drain_restarts_and_drains_exactly_once(
    server: PostgresServer, tmp_path: Path
) -> None:
    first = _worker(tmp_path, server.dsn, 0, 2400, pause=200)
    try:
        _acks(first, "ready")
        acked = _acks(first, "pause")
        kill(server)
        assert first.stdin is not None
        first.stdin.write("go\n")
        first.stdin.flush()
        acked += _acks(first, "done")
        assert len(acked) == 2400
        backlog = spooled(tmp_path)
        assert backlog > 1000  # most of the stream was spooled
        server.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the drain's first commits land: kill -9
            if len(held(server, "kill")) > 2400 - backlog:
                first.send_signal(signal.SIGKILL)
                break
        first.wait(10)
        at_kill = len(held(server, "kill"))
        assert 0 < at_kill < 2400 and spooled(tmp_path) > 0  # killed mid-drain
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    _writer_free(server)
    second = _worker(tmp_path, server.dsn, 2400, 2500)  # drains at start, then decides
    _acks(second, "ready")
    assert spooled(tmp_path) == 0
    acked += _acks(second, "done")
    assert second.stdin is not None
    second.stdin.close()
    assert second.wait(20) == 0
    _exactly_once(server, "kill", acked)
    reports = journal(server, tmp_path, "kill", "verifier", read_only=True).verify()
    assert reports and all(report.ok for report in reports)
