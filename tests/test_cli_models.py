"""`shopguard simulate | dataset | train | models`: from traffic to a champion model."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from shopguard.cli import app
from tests.conftest import TEST_KEYS

FEATURES = "amount,account_payments_30d,account_amount_mean_30d,card_accounts_24h,hour"


def test_dataset_train_and_choose_a_champion(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SHOPGUARD_KEYS": f"k1:{TEST_KEYS['k1']}"}
    sim, table = tmp_path / "sim.jsonl", tmp_path / "set.parquet"
    data = ["--data-dir", str(tmp_path / "data")]
    made = runner.invoke(app, ["simulate", "--events", "30000", "--seed", "3", "--out", str(sim)])
    assert made.exit_code == 0, made.output
    built = runner.invoke(
        app,
        ["dataset", str(sim), "--out", str(table), "--types", "payment", "--pack", "retail"],
        env=env,
    )
    assert built.exit_code == 0, built.output
    columns = pq.read_schema(table).names
    assert columns[:5] == ["event_id", "tenant", "type", "time", "label"]
    assert {"amount", "card_accounts_24h"} <= set(columns)
    trained = runner.invoke(app, ["train", str(table), "--features", FEATURES, *data], env=env)
    assert trained.exit_code == 0 and trained.stdout.strip() == "m1", trained.output
    compiled = list((tmp_path / "data" / "models" / "m1").glob("model.*.o"))
    assert len(compiled) == 1  # compiled for this CPU when trained: serving starts at once
    chosen = runner.invoke(app, ["models", "use", "champion", "m1", *data])
    assert chosen.exit_code == 0 and "champion m1" in chosen.output
    unknown = runner.invoke(app, ["models", "use", "champion", "m9", *data])
    assert unknown.exit_code == 2 and "no registered model 'm9'" in unknown.output
    missing = runner.invoke(app, ["train", str(table), "--features", "nope", *data], env=env)
    assert missing.exit_code == 2 and "column(s) ['nope']" in " ".join(missing.output.split())
    policy = tmp_path / "policy.yaml"
    policy.write_text("# ours\npolicy:\n  mode: enforce  # why we enforce\n")
    write = ["--write-policy", str(policy)]
    report = runner.invoke(
        app,
        ["evaluate-model", str(table), "--model", "m1", "--json", "--k", "5", *data, *write],
        env=env,
    )
    assert report.exit_code == 0, report.output
    figures = json.loads(report.stdout[report.stdout.index("{") :])
    assert 0.5 < figures["roc_auc"] <= 1 and "card_precision_at_5" in figures
    written = yaml.safe_load(policy.read_text())["policy"]
    assert written["mode"] == "enforce"
    assert written["model"]["deny"] == figures["cheapest_deny_threshold"]["score"]
    assert "# ours" in policy.read_text() and "# why we enforce" in policy.read_text()
