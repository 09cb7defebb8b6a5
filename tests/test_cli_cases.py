"""`shopguard labels import` and `shopguard report merchants` over a real data directory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli import app

runner = CliRunner()


def _payments(n: int) -> str:
    return "\n".join(
        json.dumps(
            {
                "type": "payment",
                "event_id": f"p{i}",
                "tenant": "shop",
                "time": f"2025-03-0{1 + i % 3}T10:00:00Z",
                "account": f"a{i}",
                "merchant": "m1" if i % 2 else "m2",
                "order_id": f"o{i}",
                "amount": 50.0,
            }
        )
        for i in range(n)
    )


def test_labels_import_then_merchant_report(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["decide", *data], input=_payments(12)).exit_code == 0
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"tenant": "shop", "kind": "chargeback", "event_id": "p1", "loss": 50}\n'
        '{"tenant": "shop", "kind": "fraud", "entity_kind": "phone", "entity": "13812345678",'
        ' "merchant": "m2", "loss": 20, "known_at": 1740823200}\n'
    )
    result = runner.invoke(app, ["labels", "import", str(labels), *data])
    assert result.exit_code == 0, result.output
    assert "imported 2 labels" in result.output
    assert b"13812345678" not in (tmp_path / "decisions.db").read_bytes()

    result = runner.invoke(app, ["report", "merchants", "--tenant", "shop", "--json", *data])
    assert result.exit_code == 0, result.output
    rows = {row["merchant"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert rows["m1"]["decided"] == 6 and rows["m1"]["confirmed_loss"] == 50.0
    assert rows["m1"]["loss_rate"] == round(50 / rows["m1"]["gross_value"], 6)
    assert rows["m2"]["confirmed_loss"] == 20.0
    march_2 = ["--since", "2025-03-02", "--until", "2025-03-03"]
    result = runner.invoke(app, ["report", "merchants", "--tenant", "shop", *march_2, *data])
    assert result.exit_code == 0 and "m1" in result.stdout and "merchant health" in result.stdout


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "merchants", "--tenant", "s", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "no journal" in result.output
    runner.invoke(app, ["decide", "--data-dir", str(tmp_path)], input=_payments(1))
    bad = runner.invoke(
        app,
        ["report", "merchants", "--tenant", "s", "--since", "March", "--data-dir", str(tmp_path)],
    )
    assert bad.exit_code == 2 and "bad date" in bad.output
    labels = tmp_path / "bad.jsonl"
    labels.write_text('{"tenant": "shop", "kind": "stolen", "event_id": "p0"}\n')
    result = runner.invoke(app, ["labels", "import", str(labels), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "line 1" in result.output and "$.kind" in result.output
