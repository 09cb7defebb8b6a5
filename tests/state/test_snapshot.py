"""The snapshot is data, not a pickle: a crafted one runs nothing, a broken one is
reported once and the state is rebuilt from the journal."""

from __future__ import annotations

import logging
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopguard import Engine
from shopguard.cli import app
from shopguard.state.audit import audit_key
from shopguard.state.verify import snapshot_mac
from tests.conftest import make_engine
from tests.state.test_durability import state_digest
from tests.state.worker import KEYS, events

STREAM = events(400)


class _Touch:
    """Unpickling this creates ``path``: what a crafted snapshot row would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def _journal(data: Path) -> Any:
    engine = Engine.from_config(data_dir=str(data), keys=KEYS, snapshot_every=0)
    for ev in STREAM:
        engine.decide(ev)
    engine.close()  # writes the snapshot
    reference = make_engine(keys=KEYS)  # the same stream, folded with no snapshot at all
    for ev in STREAM:
        reference.decide(ev)
    return state_digest(reference)


def _put(data: Path, blob: bytes, mac: bytes | None = None) -> None:
    with sqlite3.connect(data / "decisions.db") as db:
        seq = db.execute("SELECT seq FROM snapshot").fetchone()[0]
        mac = snapshot_mac(audit_key(data), seq, blob) if mac is None else mac
        db.execute("UPDATE snapshot SET state = ?, mac = ?", (blob, mac))


def _verify(data: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(data)])
    return result.exit_code, result.output


def _restart(data: Path, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="shopguard.journal"):
        engine = Engine.from_config(data_dir=str(data), keys=KEYS, snapshot_every=0)
    digest = state_digest(engine)
    engine.log.close()  # no new snapshot: the next restart meets the same row
    lines = [r.getMessage() for r in caplog.records if r.name == "shopguard.journal"]
    return digest, lines


def test_a_clean_snapshot_is_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    expected = _journal(tmp_path)
    digest, lines = _restart(tmp_path, caplog)
    assert digest == expected and lines == []
    assert _verify(tmp_path)[0] == 0


@pytest.mark.parametrize("keyed", [False, True], ids=["without the key", "with the key"])
def test_a_pickle_in_the_snapshot_row_never_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, keyed: bool
) -> None:
    expected = _journal(tmp_path / "data")
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"fingerprint": "x", "state": _Touch(marker)})
    _put(tmp_path / "data", payload, None if keyed else b"\0" * 32)
    digest, lines = _restart(tmp_path / "data", caplog)
    assert not marker.exists()
    assert digest == expected  # rebuilt from the journal
    assert len(lines) == 1 and "rebuilding" in lines[0], lines
    code, output = _verify(tmp_path / "data")
    assert code == 1 and "TAMPERED snapshot: snapshot" in output


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:], "checksum mismatch"),
        (lambda blob: blob[: len(blob) // 2], "checksum mismatch"),
        (lambda blob: b"garbage", "not a snapshot of this format"),
    ],
    ids=["a flipped bit", "truncated", "not a snapshot"],
)
def test_a_corrupted_snapshot_is_reported_and_the_state_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Any, named: str
) -> None:
    """Corrupted under a valid MAC (written so, e.g. by a bad disk before it was sealed):
    the checksum and the decoder catch it; the engine starts with a full fold."""
    expected = _journal(tmp_path)
    with sqlite3.connect(tmp_path / "decisions.db") as db:
        blob = bytes(db.execute("SELECT state FROM snapshot").fetchone()[0])
    _put(tmp_path, damage(blob))
    digest, lines = _restart(tmp_path, caplog)
    assert digest == expected
    assert len(lines) == 1 and named in lines[0], lines
    code, output = _verify(tmp_path)
    assert code == 1 and f"TAMPERED snapshot: snapshot unusable: {named}" in output


def test_a_snapshot_under_other_features_is_refolded(tmp_path: Path) -> None:
    """The fingerprint still guards the layout (tests/state/test_recovery.py has more)."""
    _journal(tmp_path)
    with sqlite3.connect(tmp_path / "decisions.db") as db:
        blob = bytes(db.execute("SELECT state FROM snapshot").fetchone()[0])
    from shopguard.state.snapshot import pack, unpack

    envelope = unpack(blob)
    envelope.fingerprint = "0" * 64
    _put(tmp_path, pack(envelope))
    engine = Engine.from_config(data_dir=str(tmp_path), keys=KEYS, snapshot_every=0)
    assert len(engine.store) > 0
    engine.log.close()
