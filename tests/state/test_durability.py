"""kill -9 a deciding process, restart it, and find every acknowledged event intact."""

from __future__ import annotations

import signal
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import msgspec
import pytest

from shopguard import Decision, Engine
from shopguard.links.persist import encode_graph
from shopguard.state.snapshot import encode_state
from tests.conftest import make_engine
from tests.state.worker import KEYS, events

ROOT = Path(__file__).resolve().parents[2]


def _plain(value: Any) -> Any:
    if isinstance(value, array):
        return list(value)
    if isinstance(value, dict):
        return sorted((repr(k), _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__module__.startswith("shopguard.features."):  # a state: what it stores
        return (type(value).__name__, msgspec.msgpack.encode(encode_state(value)))
    return value


def state_digest(engine: Engine) -> Any:
    data = engine.store._data  # type: ignore[attr-defined]
    lists = sorted((e.list, e.kind, e.value, e.expires, e.reason) for e in engine.lists.entries())
    return _plain(data), lists, encode_graph(engine.links)


@pytest.mark.parametrize("snapshot_every", [0, 150])
def test_kill_9_loses_no_acknowledged_event(tmp_path: Path, snapshot_every: int) -> None:
    total, kill_after = 3000, 700
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.state.worker",
            str(tmp_path),
            str(total),
            str(snapshot_every),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    assert worker.stdout is not None
    acked: list[Decision] = []
    for line in worker.stdout:
        acked.append(msgspec.json.decode(line, type=Decision))
        if len(acked) == kill_after:
            worker.send_signal(signal.SIGKILL)
            break
    worker.wait()
    assert worker.returncode == -signal.SIGKILL, "the worker ended before it was killed"

    restarted = Engine.from_config(data_dir=str(tmp_path), keys=KEYS)
    committed = restarted.log.last_seq()
    assert kill_after <= committed < total
    stream = events(total)

    # The journal is exactly the committed prefix; state equals a clean run over it.
    reference = make_engine(keys=KEYS)
    for ev in stream[:committed]:
        reference.decide(ev)
    assert state_digest(restarted) == state_digest(reference)
    assert any(e.list == "deny" for e in restarted.lists.entries())  # lists came back too
    # and the journal verifies: a kill between seal and commit is no tampering
    assert all(r.ok for r in restarted.log.verify())  # type: ignore[attr-defined]

    # Every acknowledged event answers with its original decision and is not re-counted.
    for decision, ev in zip(acked, stream, strict=False):
        assert restarted.decide(ev) == decision
    assert restarted.log.last_seq() == committed
    assert state_digest(restarted) == state_digest(reference)

    # And the engine carries on from there, in step with the clean run.
    nxt = stream[committed]
    a, b = restarted.decide(nxt), reference.decide(nxt)
    assert (a.outcome, a.reasons, a.features) == (b.outcome, b.reasons, b.features)
    restarted.close()
