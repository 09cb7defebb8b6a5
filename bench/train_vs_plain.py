"""`shopguard train` on ../shared/data/ecommerce-fraud under each validation scheme,
against a plain LightGBM on the file's raw columns over exactly the same rows.

    shopguard dataset ../shared/data/ecommerce-fraud/fraud_data_30k.csv \\
      --mapping ecommerce-fraud --label class --types payment --pack signup --out ecom.parquet
    python bench/train_vs_plain.py ecom.parquet > bench/out/train_vs_plain.json

"ours" is what `shopguard train ecom.parquet --validation SCHEME --group entity_device`
fits (the same code: ``trainer.train_table``), measured on its validation rows; with
``--folds`` also its k-fold cross-validation on the training rows (mean ± sd). "plain" is
LightGBM with its default parameters and 200 rounds (nothing chosen on validation) on the
CSV's columns: purchase value, age, sex, source, browser (categories, natively), the IP
as a number, sign-up and purchase times as numbers and their difference. "plain, no
sex/age" drops what ShopGuard may not store. The validation rows are one mask for all:
the newest fifth (time), a stratified random fifth (random), or a fifth of the devices
(group: no device on both sides, so a ring's accounts cannot be learned then recognized).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pyarrow.parquet as pq
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from shopguard.model import metrics
from shopguard.model.dataset import floats
from shopguard.model.split import holdout
from shopguard.model.trainer import TrainOptions, train_table

CSV = Path(__file__).resolve().parents[1] / "../shared/data/ecommerce-fraud/fraud_data_30k.csv"
CATEGORIES = ("source", "browser", "sex")
PLAIN = {"objective": "binary", "verbose": -1, "num_threads": 2, "seed": 7}


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%m/%d/%Y %H:%M").replace(tzinfo=UTC).timestamp()


def raw_matrix(path: Path, user_ids: list[str]) -> tuple[NDArray[np.float64], list[str]]:
    """The CSV's columns for ``user_ids`` in that order (categories as codes)."""
    with path.open(newline="") as f:
        rows = {r["user_id"]: r for r in csv.DictReader(f)}
    codes: dict[str, dict[str, int]] = {c: {} for c in CATEGORIES}
    names = ["purchase_value", "age", "ip_address", "signup", "purchase", "signup_to_purchase",
             *CATEGORIES]  # fmt: skip
    out = np.empty((len(user_ids), len(names)))
    for i, uid in enumerate(user_ids):
        r = rows[uid]
        signup, purchase = _epoch(r["signup_time"]), _epoch(r["purchase_time"])
        cats = [codes[c].setdefault(r[c], len(codes[c])) for c in CATEGORIES]
        out[i] = [float(r["purchase_value"]), float(r["age"]), float(r["ip_address"]),
                  signup, purchase, purchase - signup, *cats]  # fmt: skip
    return out, names


def plain(
    x: NDArray[np.float64], y: NDArray[np.float64], valid: NDArray[np.bool_], names: list[str]
) -> dict[str, float]:
    cats = [n for n in names if n in CATEGORIES]
    data = lightgbm.Dataset(x[~valid], y[~valid], feature_name=names, categorical_feature=cats)
    booster = lightgbm.train(PLAIN, data, num_boost_round=200)
    return _measure(y[valid], np.asarray(booster.predict(x[valid]), float))


def _measure(y: NDArray[np.float64], score: NDArray[np.float64]) -> dict[str, float]:
    return {
        "roc_auc": round(metrics.roc_auc(y, score), 4),
        "average_precision": round(metrics.average_precision(y, score), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--csv", default=str(CSV))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if not Path(args.csv).is_file():
        parser.error(f"no {args.csv}: pass the raw file with --csv")
    table = pq.read_table(args.dataset)
    y, when = floats(table.column("label")), floats(table.column("time"))
    devices = np.asarray(table.column("entity_device").to_pylist(), object)
    users = [e.removeprefix("pay-") for e in table.column("event_id").to_pylist()]
    raw, names = raw_matrix(Path(args.csv), users)
    kept = [i for i, n in enumerate(names) if n not in ("sex", "age")]
    console = Console(stderr=True)
    results: dict[str, Any] = {"rows": len(y), "frauds": int(y.sum()), "schemes": {}}
    for scheme in ("time", "random", "group"):
        valid = holdout(scheme, y, when, 0.2, devices if scheme == "group" else None)
        options = TrainOptions(validation=scheme, group="entity_device", folds=args.folds)
        console.print(f"{scheme}: training ours ({args.folds} folds) and plain")
        _, card = train_table(table, options)
        assert card.rows["valid"] == int(valid.sum())  # the same rows as the plain model's
        results["schemes"][scheme] = {
            "valid_rows": int(valid.sum()),
            "valid_frauds": int(y[valid].sum()),
            "ours": {**card.metrics, "trees": card.best_iteration, "warnings": card.warnings},
            "ours_cv": {k: card.cv[k] for k in ("roc_auc", "average_precision")},
            "plain": plain(raw, y, valid, names),
            "plain_no_sex_age": plain(raw[:, kept], y, valid, [names[i] for i in kept]),
            "command": f"shopguard train {args.dataset} --validation {scheme}"
            f" --group entity_device --folds {args.folds}",
        }
    table_out = Table(title=f"ecommerce-fraud, {len(y):,} payments, validation = 20 %")
    for column in ("scheme", "ours ROC-AUC", "ours AP", f"ours {args.folds}-fold ROC-AUC",
                   "plain ROC-AUC", "plain AP", "plain no sex/age ROC-AUC / AP"):  # fmt: skip
        table_out.add_column(column)
    for scheme, r in results["schemes"].items():
        cv = r["ours_cv"]["roc_auc"]
        table_out.add_row(
            scheme, f"{r['ours']['roc_auc']:.4f}", f"{r['ours']['average_precision']:.4f}",
            f"{cv['mean']:.4f} ± {cv['sd']:.4f}", f"{r['plain']['roc_auc']:.4f}",
            f"{r['plain']['average_precision']:.4f}",
            f"{r['plain_no_sex_age']['roc_auc']:.4f} / "
            f"{r['plain_no_sex_age']['average_precision']:.4f}",
        )  # fmt: skip
    console.print(table_out)
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
