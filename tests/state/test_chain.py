"""The journal's hash chains find an edited, a deleted and an inserted record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from tests.conftest import event, make_engine


def _journal(tmp_path: Path, n: int = 8) -> Path:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    for i in range(n):
        engine.decide(event("sms.send", f"s{i}", i * 10.0, phone="13800000000", ip="1.2.3.4"))
    engine.list_add("deny", "device", "rig-1", tenant="shop", reason="test")
    engine.close()
    return tmp_path / "decisions.db"


def _verify(tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path)])
    return result.exit_code, result.output


def test_an_untouched_journal_verifies_and_prints_its_heads(tmp_path: Path) -> None:
    _journal(tmp_path)
    code, output = _verify(tmp_path)
    assert code == 0, output
    assert "decisions head " in output and "list_ops head " in output


@pytest.mark.parametrize(
    ("tampering", "found"),
    [
        ("UPDATE decisions SET outcome = (outcome + 1) % 4 WHERE seq = 7", "record edited at 7"),
        ("DELETE FROM decisions WHERE seq = 4", "records deleted at 4"),
        ("UPDATE list_ops SET op = CAST('{}' AS BLOB) WHERE id = 1", "list_ops"),
        ("UPDATE decisions SET outcome = 3, redacted = 1 WHERE seq = 6", "covers it) at 6"),
        ("UPDATE decisions SET outcome = 3, redacted = 2 WHERE seq = 5", "covers it) at 5"),
        ("UPDATE list_ops SET op = x'', redacted = 1 WHERE id = 1", "list_ops"),
    ],
    ids=[
        "edited",
        "deleted",
        "list change edited",
        "edited, passed off as erased",
        "edited, passed off as thinned",
        "list change blanked",
    ],
)
def test_an_edited_or_deleted_record_is_found(tmp_path: Path, tampering: str, found: str) -> None:
    path = _journal(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(tampering)
    code, output = _verify(tmp_path)
    assert code == 1 and found in output


def test_an_inserted_record_is_found(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT * FROM decisions WHERE seq = 8").fetchone()
        forged = (9, *row[1:12], bytes(32), *row[13:])  # a copy with a made-up chain
        db.execute(f"INSERT INTO decisions VALUES ({','.join('?' * len(forged))})", forged)
    code, output = _verify(tmp_path)
    assert code == 1 and "at 9" in output


def test_the_chain_continues_across_restarts(tmp_path: Path) -> None:
    _journal(tmp_path, 3)
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    engine.decide(event("sms.send", "later", 100.0, phone="13800000001"))
    engine.close()
    code, output = _verify(tmp_path)
    assert code == 0, output
