from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.evaluate import Scoreboard
from shopguard.evaluate.report import markdown, targets
from shopguard.evaluate.summary import HELD_OUT_SEEDS, TUNING_SEEDS, parse_seeds, summary


def board(caught: int, denied_honest: int) -> Scoreboard:
    b = Scoreboard()
    for n in range(10):
        outcome = "deny" if n < caught else "allow"
        b.add({"type": "sms.send", "account": f"r{n}"}, outcome, "sms_bombing", 0)
    for n in range(1000):
        outcome = "deny" if n < denied_honest else "allow"
        b.add({"type": "payment", "amount": 1.0, "account": f"h{n}"}, outcome, "", 0)
    return b


def test_seed_lists_and_the_documented_split() -> None:
    assert parse_seeds("101,102, 103") == [101, 102, 103]
    assert parse_seeds("101-103,7") == [101, 102, 103, 7]
    with pytest.raises(ValueError):
        parse_seeds("-3")
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)


def test_targets_careful_recall_and_honest_accounts() -> None:
    checks = {what: met for what, _, met in targets(board(9, 0), careful=True)}
    assert checks["recall ≥ 90% for every attack"]
    assert not {what: met for what, _, met in targets(board(9, 0), careful=False)}[
        "recall ≥ 95% for every attack"
    ]
    checks = {what: met for what, _, met in targets(board(10, 6), careful=True)}
    assert not checks["honest accounts ever denied ≤ 0.5%"]
    assert not checks["honest events denied ≤ 0.1%"]
    assert "| payment | 1,000 | 0 | 0 | 6 |" in markdown(board(10, 6), "t", "cmd", None)
    report = markdown(board(9, 0), "t", "cmd", None, careful=True)
    assert "| sms_bombing | 10 | 10 | 9 | 90.0% | 10 | 100.0% |" in report
    assert "Honest accounts ever denied: **0.000%**" in report


def test_summary_marks_a_target_missed_on_one_seed() -> None:
    text = summary({104: board(10, 0), 105: board(8, 0)}, "held out", "cmd", careful=True)
    assert "held-out seeds (104, 105)" in text
    assert "| recall ≥ 90% for every attack | lowest 100.0% | lowest 80.0% ⚠ | **no** |" in text
    assert "| sms_bombing | 100.0% | 80.0% ⚠ | 80.0% ⚠ | 100.0% |" in text


def test_evaluate_several_seeds_writes_a_report_each_and_a_summary(tmp_path: Path) -> None:
    args = ["evaluate", "--careful", "--events", "8000", "--seeds", "101,102"]
    result = CliRunner().invoke(app, [*args, "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for seed in (101, 102):
        report = (tmp_path / f"seed-{seed}" / "report.md").read_text()
        assert "## Targets" in report and "| proxy_wool_farm |" in report
    text = (tmp_path / "summary.md").read_text()
    assert "seed 101 | seed 102" in text and "| scalpers |" in text
    bad = CliRunner().invoke(app, ["evaluate", "--seeds", "x-", "--out-dir", str(tmp_path)])
    assert bad.exit_code == 2
