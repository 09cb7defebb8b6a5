"""How far any model can go on ../shared/data/ecommerce-fraud: an oracle bound.

    python bench/ecommerce_ceiling.py > bench/out/ecommerce_ceiling.json   # ~10 s

A purchase is *knowable* when something separates it from an honest first purchase: it
comes within ``--quick`` seconds of its sign-up, or its device or IP carries another
account anywhere in the file (the whole file, future included: more than any
point-in-time feature can see). The rest is *blind*.

1. A model reading every raw column of the blind rows (sex, age, source, browser and the
   IP's country included, which ShopGuard never stores or does not map) is scored with
   stratified 5-fold cross-validation: if it ranks their frauds no better than chance,
   nothing in the data separates them.
2. The oracle then scores every knowable row perfectly (its own label) and ranks the
   blind rows among themselves at random, between the knowable frauds and the knowable
   honest rows: the best ROC-AUC and recall at 1 % false-positive rate any model can
   reach, pooled and as the mean of 5 folds grouped by device, as the evaluation's are
   (which hash the device's pseudonym where this hashes the raw id).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import lightgbm
import numpy as np
from rich.console import Console
from rich.table import Table

from ecommerce_model import _report  # the evaluation's own two figures
from shopguard.model import metrics

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecommerce-fraud"
FORMAT = "%m/%d/%Y %H:%M"


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "fraud_data_30k.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _countries(folder: Path, ips: list[float]) -> list[str]:
    with (folder / "ip_to_country.csv").open(newline="") as f:
        ranges = sorted(
            (float(r["lower_bound_ip_address"]), float(r["upper_bound_ip_address"]), r["country"])
            for r in csv.DictReader(f)
        )
    lows = [r[0] for r in ranges]
    out = []
    for ip in ips:
        i = bisect.bisect_right(lows, ip) - 1
        out.append(ranges[i][2] if i >= 0 and ip <= ranges[i][1] else "")
    return out


def _codes(values: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(sorted(set(values)))}
    return np.array([index[v] for v in values], float)


def blind_model_auc(x: np.ndarray, y: np.ndarray, categorical: list[int]) -> float:
    """Out-of-fold ROC-AUC of gradient boosting on the blind rows (stratified 5-fold)."""
    rng = np.random.default_rng(0)
    fold = np.empty(len(y), int)
    for label in (0, 1):
        where = np.flatnonzero(y == label)
        fold[where] = rng.permutation(len(where)) % 5
    score = np.empty(len(y))
    params = {"objective": "binary", "learning_rate": 0.03, "num_leaves": 15, "verbose": -1}
    params["min_data_in_leaf"] = 50
    for k in range(5):
        train = lightgbm.Dataset(x[fold != k], y[fold != k], categorical_feature=categorical)
        model = lightgbm.train(params, train, num_boost_round=200)
        score[fold == k] = model.predict(x[fold == k])
    return round(metrics.roc_auc(y, score), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--quick", type=float, default=3600, help="seconds: a quick purchase")
    parser.add_argument("--draws", type=int, default=20, help="random orders of the blind rows")
    args = parser.parse_args()
    if not (args.data / "fraud_data_30k.csv").exists():
        sys.exit(f"{args.data} is absent: this benchmark needs ../shared/data/ecommerce-fraud")
    rows = _rows(args.data)
    y = np.array([float(r["class"]) for r in rows])
    signup = [datetime.strptime(r["signup_time"], FORMAT) for r in rows]
    bought = [datetime.strptime(r["purchase_time"], FORMAT) for r in rows]
    gap = np.array([(b - s).total_seconds() for s, b in zip(signup, bought, strict=True)])
    devices = Counter(r["device_id"] for r in rows)
    ips = Counter(r["ip_address"] for r in rows)
    shared = np.array([devices[r["device_id"]] > 1 or ips[r["ip_address"]] > 1 for r in rows])
    blind = ~shared & (gap > args.quick)

    ip = [float(r["ip_address"]) for r in rows]
    columns = {
        "gap_s": gap,
        "purchase_value": np.array([float(r["purchase_value"]) for r in rows]),
        "age": np.array([float(r["age"]) for r in rows]),
        "signup_hour": np.array([s.hour for s in signup], float),
        "purchase_hour": np.array([b.hour for b in bought], float),
        "signup_day": np.array([s.toordinal() for s in signup], float),
        "purchase_day": np.array([b.toordinal() for b in bought], float),
        "ip": np.array(ip),
        "user_id": np.array([float(r["user_id"]) for r in rows]),
        "source": _codes([r["source"] for r in rows]),
        "browser": _codes([r["browser"] for r in rows]),
        "sex": _codes([r["sex"] for r in rows]),
        "country": _codes(_countries(args.data, ip)),
    }
    categorical = [i for i, n in enumerate(columns) if n in ("source", "browser", "sex", "country")]
    x = np.column_stack(list(columns.values()))
    blind_auc = blind_model_auc(x[blind], y[blind], categorical)

    fold = np.array(
        [int(hashlib.sha256(r["device_id"].encode()).hexdigest(), 16) % 5 for r in rows]
    )
    pooled, means = [], []
    rng = np.random.default_rng(1)
    for _ in range(args.draws):
        score = y.copy()  # knowable rows: their own label
        score[blind] = 0.25 + 0.5 * rng.random(int(blind.sum()))  # blind rows: between
        pooled.append(_report(y, score))
        folds = [_report(y[fold == k], score[fold == k]) for k in range(5)]
        means.append({k: float(np.mean([f[k] for f in folds])) for k in folds[0]})

    def mean(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}

    result = {
        "rows": len(y),
        "frauds": int(y.sum()),
        "quick_s": args.quick,
        "blind_rows": int(blind.sum()),
        "blind_frauds": int(y[blind].sum()),
        "blind_fraud_rate": round(float(y[blind].mean()), 4),
        "blind_model_roc_auc": blind_auc,
        "blind_model_columns": list(columns),
        "oracle_pooled": mean(pooled),
        "oracle_fold_mean": mean(means),
        "target": {"roc_auc": 0.80, "recall_at_1pct_fpr": 0.58},
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    table = Table("", "ROC-AUC", "recall at 1% FPR", title="ecommerce-fraud: the ceiling")
    table.add_row(
        f"model on the {result['blind_rows']:,} blind rows "
        f"({result['blind_frauds']:,} of {result['frauds']:,} frauds), every raw column",
        f"{blind_auc:.4f}",
        "",
    )
    for name, r in (
        ("oracle, pooled", result["oracle_pooled"]),
        ("oracle, mean of device folds", result["oracle_fold_mean"]),
        ("issue's target", result["target"]),
    ):
        table.add_row(name, f"{r['roc_auc']:.4f}", f"{r['recall_at_1pct_fpr']:.4f}")
    Console(stderr=True).print(table)


if __name__ == "__main__":
    main()
