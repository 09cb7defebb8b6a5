"""A model on ../shared/data/ecommerce-fraud with the engine's point-in-time features:
5-fold cross-validation grouped by device (no ring spans train and test), and the
out-of-time split (first 80 % of purchases by time to train, the rest to test).

    shopguard dataset ../shared/data/ecommerce-fraud/fraud_data_30k.csv \\
      --mapping ecommerce-fraud --label class --types payment --pack retail --out ecom.parquet
    python bench/ecommerce_model.py ecom.parquet > bench/out/ecommerce_model.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import lightgbm
import numpy as np
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from shopguard.model import metrics
from shopguard.model.dataset import floats, inputs, matrix
from shopguard.model.train import fit


def _score(x, y, when, names, train, test) -> np.ndarray:  # type: ignore[no-untyped-def]
    text, _ = fit(x[train], y[train], when[train], names, "class")
    return np.asarray(lightgbm.Booster(model_str=text).predict(x[test]), float)


def _report(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    at = metrics.thresholds(y, score, (0.01,))[0]
    return {"roc_auc": round(metrics.roc_auc(y, score), 4), "recall_at_1pct_fpr": at.recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    args = parser.parse_args()
    table = pq.read_table(args.dataset)
    names = inputs(table)
    x = matrix(table, names)
    y, when = floats(table.column("label")), floats(table.column("time"))
    device = table.column("entity_device").to_pylist()
    fold = np.array([int(hashlib.sha256(str(d).encode()).hexdigest(), 16) % 5 for d in device])
    pooled = np.empty(len(y))
    folds = []
    for k in range(5):
        test = fold == k
        pooled[test] = _score(x, y, when, names, ~test, test)
        folds.append(_report(y[test], pooled[test]))
    cut = np.quantile(when, 0.8)
    late = when > cut
    result = {
        "rows": len(y),
        "frauds": int(y.sum()),
        "features": names,
        "grouped_5fold": {**_report(y, pooled), "folds": folds},
        "out_of_time_80_20": _report(y[late], _score(x, y, when, names, ~late, late)),
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    out = Table("split", "ROC-AUC", "recall at 1% FPR", title="ecommerce-fraud")
    for key in ("grouped_5fold", "out_of_time_80_20"):
        r = result[key]
        out.add_row(key, f"{r['roc_auc']:.4f}", f"{r['recall_at_1pct_fpr']:.4f}")
    Console(stderr=True).print(out)


if __name__ == "__main__":
    main()
