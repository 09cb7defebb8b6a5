"""`shopguard evaluate-model`: a registered model against a held-out Parquet set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, settings_for


@app.command("evaluate-model")
def evaluate_model(
    dataset: Annotated[Path, typer.Argument(help="A held-out Parquet set (shopguard dataset).")],
    model: Annotated[str, typer.Option(help="A registered version, e.g. m3.")],
    label: Annotated[str, typer.Option(help="The 0/1 column.")] = "label",
    entity: Annotated[str, typer.Option(help="Column for card-precision@k.")] = "entity_account",
    k: Annotated[int, typer.Option(help="k of card-precision@k.")] = 100,
    missed_fraud: Annotated[float, typer.Option(help="Cost of a missed fraud.")] = 100.0,
    blocked_honest: Annotated[float, typer.Option(help="Cost of a blocked honest event.")] = 5.0,
    write_policy: Annotated[
        Path | None, typer.Option(help="A pack's policy.yaml: set policy.model.deny there.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """ROC-AUC, average precision, recall at fixed false-positive rates, card-precision@k
    (per day, the k entities with the highest score) and the cheapest deny threshold for
    the given costs, optionally written into a policy file.

    Example: shopguard evaluate-model test.parquet --model m2 --missed-fraud 150
    --blocked-honest 3 --write-policy ./my-pack/policy.yaml
    """
    import numpy as np
    import pyarrow.parquet as pq

    from shopguard.errors import ConfigError
    from shopguard.model import metrics
    from shopguard.model.dataset import floats, matrix
    from shopguard.model.registry import ModelRegistry

    def run() -> None:
        registry = ModelRegistry(settings_for(config, data_dir).models_path)
        card = registry.card(model)
        table = pq.read_table(dataset)
        missing = sorted({*card.features, label, "time"} - set(table.column_names))
        if missing:
            raise ConfigError(f"{dataset}: no column(s) {missing}")
        import lightgbm

        booster = lightgbm.Booster(model_file=str(registry.path(model) / "model.txt"))
        x = matrix(table, card.features)
        y = floats(table.column(label))
        score = np.asarray(booster.predict(x), float)
        report: dict[str, Any] = {
            "model": model,
            "rows": len(y),
            "frauds": int(y.sum()),
            "roc_auc": round(metrics.roc_auc(y, score), 4),
            "average_precision": round(metrics.average_precision(y, score), 4),
            "at_fpr": [
                {"fpr": t.fpr, "recall": t.recall, "precision": t.precision, "score": t.score}
                for t in metrics.thresholds(y, score, (0.001, 0.005, 0.01, 0.05))
            ],
        }
        if entity in table.column_names:
            day = (np.asarray(table.column("time").to_numpy(), float) // 86400).astype(np.int64)
            ids = np.asarray(table.column(entity).to_numpy(zero_copy_only=False), str)
            report[f"card_precision_at_{k}"] = round(
                metrics.card_precision_at_k(day, ids, y, score, k), 4
            )
        cut, cost = metrics.cheapest_threshold(y, score, missed_fraud, blocked_honest)
        report["cheapest_deny_threshold"] = {"score": round(cut, 6), "total_cost": cost}
        if write_policy is not None:
            _write_threshold(write_policy, round(cut, 6))
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        table_out = Table("measure", "value", title=f"{model} on {dataset.name}")
        for key, value in report.items():
            if key != "at_fpr":
                table_out.add_row(key, str(value))
        for t in report["at_fpr"]:
            table_out.add_row(f"recall at FPR {t['fpr']:.1%}", f"{t['recall']:.4f}")
        err.print(table_out)

    guard(run)


def _write_threshold(path: Path, cut: float) -> None:
    """Set policy.model.deny, keeping the file's comments and order (a round trip)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    doc = yaml.load(path.read_text()) if path.is_file() else None
    doc = doc if isinstance(doc, CommentedMap) else CommentedMap()
    policy = doc.setdefault("policy", CommentedMap())
    policy.setdefault("model", CommentedMap())["deny"] = cut
    with path.open("w") as out:
        yaml.dump(doc, out)
    err.print(f"policy.model.deny = {cut} written to {path}")
