from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli import app
from tests.conftest import shared_file

runner = CliRunner()
EVENT = (
    '{"type":"sms.send","event_id":"e1","time":"2025-01-01T00:00:00Z",'
    '"tenant":"shop","phone":"13812345678","ip":"1.2.3.4"}'
)


def test_decide_prints_a_decision_without_raw_pii(tmp_path: Path) -> None:
    result = runner.invoke(app, ["decide", "--data-dir", str(tmp_path)], input=EVENT)
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "allow" and decision["display"]["phone"] == "138****5678"
    assert "13812345678" not in result.stdout
    assert (tmp_path / "decisions.db").exists()


def test_decide_reads_json_lines(tmp_path: Path) -> None:
    lines = "\n".join(EVENT.replace('"e1"', f'"e{i}"') for i in range(7))
    result = runner.invoke(app, ["decide", "--memory"], input=lines)
    outcomes = [json.loads(line)["outcome"] for line in result.stdout.splitlines()]
    assert outcomes == ["allow"] * 5 + ["deny"] * 2


def test_decide_reads_pretty_json_and_arrays() -> None:
    pretty = json.dumps(json.loads(EVENT), indent=2)
    result = runner.invoke(app, ["decide", "--memory"], input=pretty)
    assert result.exit_code == 0, result.output
    array = "[" + ",".join(EVENT.replace('"e1"', f'"e{i}"') for i in range(3)) + "]"
    result = runner.invoke(app, ["decide", "--memory"], input=array)
    assert len(result.stdout.splitlines()) == 3


def test_bad_event_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["decide", "--memory"], input=EVENT.replace('"1.2.3.4"', "5"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: Expected `str | null`, got `int` - at `$.ip`"


def test_rules_check_ok_and_failure(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["rules", "check"])
    assert ok.exit_code == 0 and "43 rules" in ok.stdout
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: r1, on: [payment], when: 'amout > 1', action: deny, reason: x}\n"
    )
    bad = runner.invoke(app, ["rules", "check", "--pack", str(tmp_path)])
    assert bad.exit_code == 2
    assert "rule r1: unknown name 'amout'; did you mean 'amount'?" in bad.stderr


def test_replay_csv_with_a_shipped_mapping(tmp_path: Path) -> None:
    source = shared_file("ecommerce-fraud", "fraud_data_30k.csv")
    out = tmp_path / "decisions.jsonl"
    result = runner.invoke(
        app,
        [
            "replay",
            str(source),
            "--mapping",
            "ecommerce-fraud",
            "--limit",
            "3000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3000 and set(rows[0]["labels"]) == {"class"}
    assert "outcomes" in result.stderr and "top reasons" in result.stderr
    denied = [r for r in rows if r["decision"]["outcome"] == "deny"]
    assert denied, "the ring of shared devices in January should trip the device rules"


def test_replay_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(EVENT.replace('"e1"', f'"e{i}"') for i in range(10)))
    result = runner.invoke(app, ["replay", str(source), "--out", str(tmp_path / "d.jsonl")])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 10


def test_help_teaches_with_examples() -> None:
    result = runner.invoke(app, ["replay", "--help"])
    assert "Example" in result.stdout and "--mapping" in result.stdout


def test_simulate_then_replay_carries_the_truth(tmp_path: Path) -> None:
    sim = tmp_path / "sim.jsonl"
    result = runner.invoke(app, ["simulate", "--events", "3000", "--seed", "3", "--out", str(sim)])
    assert result.exit_code == 0, result.output
    assert "honest" in result.stderr
    out = tmp_path / "d.jsonl"
    result = runner.invoke(app, ["replay", str(sim), "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = json.loads(out.read_text().splitlines()[0])
    assert set(first["labels"]) == {"label", "attack"}
