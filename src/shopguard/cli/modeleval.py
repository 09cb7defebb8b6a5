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
    """ROC-AUC, average precision, card-precision@k (per day, the k entities with the
    highest score), and the operating points chosen on the model's validation rows at
    training (its false-positive-rate cuts, and the cheapest deny threshold for the given
    costs), each measured on this set: nothing is picked on the set being evaluated. A
    column the set lacks that was constant in training reads as missing (no tree splits
    on it); lacking any other is an error.

    Example: shopguard evaluate-model test.parquet --model m2 --missed-fraud 150
    --blocked-honest 3 --write-policy ./my-pack/policy.yaml
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shopguard.errors import ConfigError
    from shopguard.model import metrics
    from shopguard.model.dataset import floats, matrix
    from shopguard.registries import open_models

    def run() -> None:
        registry = open_models(settings_for(config, data_dir))
        card = registry.card(model)
        folder = registry.path(model)
        registry.close()
        table = pq.read_table(dataset)
        absent = sorted({*card.features, label, "time"} - set(table.column_names))
        missing = [n for n in absent if n not in card.constant]
        if missing:
            raise ConfigError(f"{dataset}: no column(s) {missing}")
        for name in absent:  # constant in training: no tree reads it, missing scores alike
            kind = pa.string() if name in card.categories else pa.float64()
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
        if absent:
            err.print(f"absent, constant in training, read as missing: {', '.join(absent)}")
        import lightgbm

        booster = lightgbm.Booster(model_file=str(folder / "model.txt"))
        x = matrix(table, card.features, card.categories)
        y = floats(table.column(label))
        score = np.asarray(booster.predict(x), float)
        report: dict[str, Any] = {
            "model": model,
            "rows": len(y),
            "frauds": int(y.sum()),
            "roc_auc": round(metrics.roc_auc(y, score), 4),
            "average_precision": round(metrics.average_precision(y, score), 4),
            "absent_constant_columns": absent,
            "at_fpr": _at_validation_cuts(card, y, score),
        }
        if entity in table.column_names:
            day = (np.asarray(table.column("time").to_numpy(), float) // 86400).astype(np.int64)
            ids = np.asarray(table.column(entity).to_numpy(zero_copy_only=False), str)
            report[f"card_precision_at_{k}"] = round(
                metrics.card_precision_at_k(day, ids, y, score, k), 4
            )
        if card.curve:
            cut, _ = metrics.cheapest_on_curve(
                card.curve, card.rows["valid_positive"], missed_fraud, blocked_honest
            )
            chosen_on = "validation"
        else:  # a card from before validation curves were kept: say it is optimistic
            cut, _ = metrics.cheapest_threshold(y, score, missed_fraud, blocked_honest)
            chosen_on = "this set (the card keeps no validation curve): optimistic"
        report["cheapest_deny_threshold"] = {
            **metrics.at_cut(y, score, cut, missed_fraud, blocked_honest),
            "chosen_on": chosen_on,
        }
        if write_policy is not None:
            _write_threshold(write_policy, round(cut, 6))
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        table_out = Table("measure", "value", title=f"{model} on {dataset.name}")
        for key, value in report.items():
            if key not in ("at_fpr", "absent_constant_columns"):
                table_out.add_row(key, str(value))
        for t in report["at_fpr"]:
            asked = ", ".join(f"{f:.1%}" for f in t["target_fpr"])
            table_out.add_row(
                f"cut {t['score']:.6g} (validation FPR {asked})",
                f"recall {t['recall']:.4f} at FPR {t['fpr']:.2%} here",
            )
        err.print(table_out)

    guard(run)


def _at_validation_cuts(card: Any, y: Any, score: Any) -> list[dict[str, Any]]:
    """Each distinct cut the card chose on validation for a false-positive rate (flag
    scores above it), as it does on this set. Rates whose cuts coincide (tied scores) are
    one operating point, listed once with every rate asked."""
    from shopguard.model.metrics import distinct

    out = []
    fraud = y == 1
    for targets, t in distinct(card.thresholds):
        flagged = score > t.score
        caught, blocked = int((flagged & fraud).sum()), int((flagged & ~fraud).sum())
        out.append(
            {
                "target_fpr": targets,
                "score": t.score,
                "valid_fpr": t.fpr,
                "valid_recall": t.recall,
                "fpr": round(blocked / max(int((~fraud).sum()), 1), 6),
                "recall": round(caught / max(int(fraud.sum()), 1), 4),
                "precision": round(caught / max(caught + blocked, 1), 4),
            }
        )
    return out


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
