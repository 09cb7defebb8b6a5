"""`shopguard journal stats|compact`, `shopguard erase`, and `audit verify` after them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli import app
from tests.conftest import event, make_engine


def test_erase_and_compact_from_the_command_line(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    for i in range(20):
        engine.decide(event("sms.send", f"s{i}", i * 3600.0, phone="13800000001"))
    engine.close()
    data = ["--data-dir", str(tmp_path)]
    runner = CliRunner()
    env = {"SHOPGUARD_KEYS": "k1:test-secret-key-0123456789abcdef"}
    stats = runner.invoke(app, ["journal", "stats", *data], env=env)
    assert stats.exit_code == 0 and "20 records" in stats.output
    erased = runner.invoke(
        app,
        [
            "erase",
            "--tenant",
            "shop",
            "--kind",
            "phone",
            "--value",
            "138 0000 0001",
            "--raw",
            *data,
        ],
        env=env,
    )
    assert erased.exit_code == 0 and "decisions: 20" in erased.output, erased.output
    compacted = runner.invoke(app, ["journal", "compact", *data], env=env)
    assert compacted.exit_code == 0 and "deleted 20 records" in compacted.output
    verified = runner.invoke(app, ["audit", "verify", *data], env=env)
    assert verified.exit_code == 0, verified.output
    refused = runner.invoke(app, ["erase", "--tenant", "t", "--kind", "sku", "--value", "x", *data])
    assert refused.exit_code == 2 and "erasure is by one of" in refused.output
