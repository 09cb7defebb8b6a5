"""`shopguard simulate | dataset | train | models`: from traffic to a champion model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _set(path: Path, rows: int, seed: int, drop: tuple[str, ...] = ()) -> Path:
    """A training-set-shaped file: the amount and the merchant carry the signal."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    merchant = [f"m{i}" for i in rng.integers(0, 8, rows)]
    amount = rng.normal(size=rows)
    risk = amount + np.isin(merchant, ["m1", "m2"]) * 1.5 + rng.normal(size=rows)
    columns = {
        "event_id": [f"e{i}" for i in range(rows)],
        "type": ["payment"] * rows,
        "time": np.arange(rows, dtype=float) * 60,
        "label": (risk > 2.3).astype(np.int64),
        "amount": amount,
        "account_refunds_7d": np.zeros(rows),  # constant: no tree can split on it
        "merchant": merchant,
        "entity_device": [f"d{i}" for i in rng.integers(0, 400, rows)],
    }
    pq.write_table(pa.table({k: v for k, v in columns.items() if k not in drop}), path)
    return path


def test_train_options_warnings_and_evaluation_on_validation_cuts(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    train_set = _set(tmp_path / "train.parquet", 4000, 1)
    params = tmp_path / "lgbm.yaml"
    params.write_text("num_leaves: 7\nmin_data_in_leaf: 20\nlearning_rate: 0.1\n")
    grouped = runner.invoke(
        app,
        ["train", str(train_set), "--validation", "group", "--group", "entity_device",
         "--folds", "3", "--params", str(params), *data],
    )  # fmt: skip
    assert grouped.exit_code == 0 and grouped.stdout.strip() == "m1", grouped.output
    said = " ".join(grouped.output.split())
    assert "3-fold cross-validation (group) on the training rows: ROC-AUC" in said
    assert " ± " in said and "class weight auto: sqrt(" in said
    card = json.loads((tmp_path / "data" / "models" / "m1" / "card.json").read_text())
    assert card["params"]["num_leaves"] == 7 and card["validation"]["group"] == "entity_device"
    assert card["categories"]["merchant"][:1] and "account_refunds_7d" in card["constant"]
    few = runner.invoke(app, ["train", str(train_set), "--valid-share", "0.01", *data])
    assert few.exit_code == 0, few.output
    assert "warning: validation holds only" in " ".join(few.output.split())
    bad = tmp_path / "bad.json"
    bad.write_text('{"num_leaves": "many"}')
    refused = runner.invoke(app, ["train", str(train_set), "--params", str(bad), *data])
    assert refused.exit_code == 2 and "LightGBM" in refused.output, refused.output

    def evaluate(path: Path) -> dict[str, Any]:
        report = runner.invoke(app, ["evaluate-model", str(path), "--model", "m1", "--json", *data])
        assert report.exit_code == 0, report.output
        assert "read as missing: account_refunds_7d" in " ".join(report.output.split())
        return dict(json.loads(report.stdout[report.stdout.index("{") :]))

    first = evaluate(_set(tmp_path / "a.parquet", 3000, 2, drop=("account_refunds_7d",)))
    second = evaluate(_set(tmp_path / "b.parquet", 1000, 3, drop=("account_refunds_7d",)))
    # picked on validation at training, so the same on any set it is measured on
    deny = first["cheapest_deny_threshold"]
    assert deny["chosen_on"] == "validation"
    assert deny["score"] == second["cheapest_deny_threshold"]["score"]
    assert deny["recall"] != second["cheapest_deny_threshold"]["recall"]  # measured on each
    assert [t["score"] for t in first["at_fpr"]] == [t["score"] for t in second["at_fpr"]]
    assert first["absent_constant_columns"] == ["account_refunds_7d"]
    lacking = _set(tmp_path / "c.parquet", 500, 4, drop=("amount", "account_refunds_7d"))
    refused = runner.invoke(app, ["evaluate-model", str(lacking), "--model", "m1", *data])
    assert refused.exit_code == 2 and "no column(s) ['amount']" in refused.output
