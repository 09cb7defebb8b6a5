"""`shopguard consume` against real NATS JetStream: every event decided and published per
tenant; killed with SIGKILL mid-stream and restarted, every event decided exactly once
with the same feature counts as a straight run; through an outage of its own
nats-server (killed and restarted), no event lost; SIGTERM finishes the batch and exits."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from typer.testing import CliRunner

from shopguard import Engine
from shopguard.cli import app
from tests.conftest import TEST_KEYS
from tests.servers import free_port, nats_server, need_service
from tests.sources.streams import (
    MACHINE_NATS,
    Names,
    add_stream,
    drop_streams,
    journal_counts,
    messages,
    publish,
    subject_counts,
)

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2025, 3, 1, 10, tzinfo=UTC)
# What a reordered redelivery cannot change: totals over windows longer than the stream.
ORDER_FREE = {"count", "distinct", "sum", "mean", "max"}


def _events(n: int, tenants: tuple[str, ...] = ("shop",), tag: str = "e") -> list[bytes]:
    """``n`` events 0.1 s apart over few entities (counts that matter), tenants in turn."""
    out = []
    for i in range(n):
        a = (i * 7) % 40
        kind = ("sms.send", "account.login", "account.register", "payment")[i % 4]
        event: dict[str, Any] = {
            "type": kind,
            "event_id": f"{tag}{i}",
            "tenant": tenants[i % len(tenants)],
            "time": (START + timedelta(seconds=i / 10)).isoformat(),
            "account": f"acct{a}",
            "device": {"id": f"dev{a % 25}"},
            "ip": f"10.0.{a % 9}.{a % 5}",
            "phone": f"1381234{a % 30:04d}",
        }
        if kind == "payment":
            event |= {"amount": 10.0 + a, "card": f"6222{a:012d}", "success": True}
        elif kind == "account.login":
            event["success"] = i % 9 != 0
        out.append(msgspec.json.encode(event))
    return out


def _config(tmp: Path, names: Names, url: str = MACHINE_NATS) -> Path:
    keys = "".join(f"  {k}: {v}\n" for k, v in TEST_KEYS.items())
    path = tmp / "settings.yaml"
    path.write_text(
        f"event_time: replay\ndata_dir: {tmp / 'data'}\nkeys:\n{keys}active_key: k1\n"
        + names.settings(url)
    )
    return path


def _consume(config: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "120"}
    argv = [sys.executable, "-m", "shopguard.cli", "consume", "-c", str(config), *args]
    log = (config.parent / "consume.log").open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)


def _wait(what: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _started(tmp: Path) -> bool:
    return b"consuming" in (tmp / "consume.log").read_bytes()


def _decided(data: Path) -> int:
    try:
        return len(journal_counts(data))
    except Exception:  # the journal is not created yet
        return 0


def _finish(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for the consumer to stop on its own (--idle-stop) and succeed."""
    try:
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, log.read_text()


def _order_free_features(settings: Path | None, events: list[bytes]) -> dict[str, Any]:
    """After the events: what a probe per entity reads, order-free features only. From the
    journal in ``settings``'s data dir, or (None) a straight in-memory run of ``events``."""
    options: dict[str, Any] = {"explain": True, "event_time": "replay"}
    if settings is None:
        engine = Engine.from_config(
            decision_log="memory", keys=TEST_KEYS, active_key="k1", **options
        )
        engine.decide_many(events)
    else:
        engine = Engine.from_config(settings=settings, **options)
    kinds = {name: spec.kind for name, spec in engine.features.specs.items()}
    later = (START + timedelta(hours=0.5)).isoformat()
    seen: dict[str, Any] = {}
    for i, raw in enumerate(_events(4 * 40, tag="probe")):
        probe = msgspec.json.decode(raw) | {"time": later}
        decision = engine.decide(probe)
        for name, value in decision.features.items():
            if kinds.get(name) in ORDER_FREE:
                seen[f"{i}:{name}"] = value
    engine.close()
    return seen


@pytest.fixture
def names() -> Iterator[Names]:
    need_service("NATS", 4222)
    names = Names()
    yield names
    drop_streams(MACHINE_NATS, names.stream, names.stream + "_OUT")


def test_help_teaches() -> None:
    result = CliRunner().invoke(app, ["consume", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for option in ("--url", "--stream", "--subject", "--durable", "--batch", "Example"):
        assert option in result.output


def test_files_source_decides_and_rejects_a_bad_line_alone(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join([*_events(9)[:5], b'{"type":"sms.send"}', *_events(9)[5:]]))
    out = tmp_path / "decisions.jsonl"
    args = ["consume", "--source", "files", str(source), "--out", str(out)]
    args += ["--data-dir", str(tmp_path / "data"), "--batch", "4"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    decided = [msgspec.json.decode(line)["event_id"] for line in out.read_bytes().splitlines()]
    assert decided == [f"e{i}" for i in range(9)]
    assert "events.jsonl event 6" in result.output and "1 rejected" in result.output


def test_unreachable_nats_is_one_line(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    args = ["consume", "--url", url, "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert result.output.startswith("error: NATS at") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_decides_all_and_publishes_per_tenant_once(tmp_path: Path, names: Names) -> None:
    config = _config(tmp_path, names)
    out = names.stream + "_OUT"  # captures decisions and alerts: JetStream's dedupe
    add_stream(MACHINE_NATS, out, [f"{names.decisions}.>", f"{names.alerts}.>"])
    events = _events(300, tenants=("shop", "mall"))
    farm = [  # the fourth sign-up on one device is denied: an alert
        {"type": "account.register", "event_id": f"farm{i}", "tenant": "mall",
         "time": (START + timedelta(seconds=40 + i)).isoformat(),
         "account": f"wool{i}", "device": {"id": "farm-1"}}
        for i in range(5)
    ]  # fmt: skip
    add_stream(MACHINE_NATS, names.stream, [f"{names.events}.>"])  # consume finds it
    publish(MACHINE_NATS, f"{names.events}.in", [*events, b'{"type": "nope"}', *farm])
    proc = _consume(config, "--batch", "64", "--idle-stop", "1")
    _finish(proc, tmp_path / "consume.log")
    assert len(journal_counts(tmp_path / "data")) == 305
    log = (tmp_path / "consume.log").read_text()
    assert "305 decided" in log and "1 rejected" in log and "seq 301" in log

    # a second durable reads the stream again: answered from the journal, republished
    # with the same Nats-Msg-Id, stored once
    again = _consume(config, "--durable", names.durable + "_again", "--idle-stop", "1")
    _finish(again, tmp_path / "consume.log")
    assert (
        "0 decided, 305 answered again from the journal" in (tmp_path / "consume.log").read_text()
    )
    assert journal_counts(tmp_path / "data") == dict.fromkeys(journal_counts(tmp_path / "data"), 1)
    with sqlite3.connect(tmp_path / "data" / "decisions.db") as db:  # alert_at: deny
        denied = dict(
            db.execute(
                "SELECT tenant, count(*) FROM decisions WHERE outcome = 3 GROUP BY tenant"
            ).fetchall()
        )
    assert subject_counts(MACHINE_NATS, out) == {
        f"{names.decisions}.shop": 150,
        f"{names.decisions}.mall": 155,
        f"{names.alerts}.shop": denied["shop"],
        f"{names.alerts}.mall": denied["mall"],
    }
    alerts = [msgspec.json.decode(b) for b in messages(MACHINE_NATS, out, f"{names.alerts}.mall")]
    assert {"farm3", "farm4"} <= {a["event_id"] for a in alerts}
    assert all(a["outcome"] == "deny" and a["tenant"] == "mall" for a in alerts)


def test_kill_9_mid_stream_then_restart_decides_each_once(tmp_path: Path, names: Names) -> None:
    config = _config(tmp_path, names)
    events = _events(2000)
    data = tmp_path / "data"
    args = ("--batch", "32", "--ack-wait", "1")
    add_stream(MACHINE_NATS, names.stream, [f"{names.events}.>"])
    publish(MACHINE_NATS, f"{names.events}.shop", events)  # all there: it never waits
    first = _consume(config, *args)
    _wait(lambda: _decided(data) >= 400)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert _decided(data) < 2000, "killed too late to test anything"
    second = _consume(config, *args, "--idle-stop", "2")
    _finish(second, tmp_path / "consume.log")
    counts = journal_counts(data)
    assert set(counts) == {f"e{i}" for i in range(2000)}  # none lost
    assert set(counts.values()) == {1}  # none decided twice
    assert _order_free_features(config, events) == _order_free_features(None, events)


def test_nats_outage_reconnects_without_loss(tmp_path: Path, names: Names) -> None:
    (tmp_path / "nats").mkdir()
    with nats_server(tmp_path / "nats") as server:
        config = _config(tmp_path, names, server.url)
        data = tmp_path / "data"
        proc = _consume(config, "--batch", "50", "--ack-wait", "1")
        try:
            _wait(lambda: _started(tmp_path))
            publish(server.url, f"{names.events}.shop", _events(1000))
            _wait(lambda: _decided(data) >= 200)
            server.kill()
            assert _decided(data) < 1000, "the outage came too late to test anything"
            time.sleep(1.0)
            server.start()
            publish(server.url, f"{names.events}.shop", _events(300, tag="after"))
            _wait(lambda: _decided(data) >= 1300)
            proc.send_signal(signal.SIGTERM)  # finishes the batch, acks, exits
            assert proc.wait(20) == 0, (tmp_path / "consume.log").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
        counts = journal_counts(data)
        assert len(counts) == 1300 and set(counts.values()) == {1}
        log = (tmp_path / "consume.log").read_text()
        assert "reconnected" in log and "Traceback" not in log
