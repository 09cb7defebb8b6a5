"""Benchmark: the cost of scoring one event with a 300-tree LightGBM model, by backend.

    python bench/scorers.py                       # a synthetic 300-tree, 40-feature model
    python bench/scorers.py --model models/m3     # a registered model (its model.txt)
    python bench/scorers.py --categories 5        # 5 of the 40 are categories (50 values)
    python bench/scorers.py --categories 5 --stock-codegen   # + lleaves' own categorical code

Every backend starts from the same thing the engine has: a mapping of feature values for
one event. ``shopguard scorer`` is what the engine runs (GbmScorer over the compiled
forest), filling its row included; "compiled forest alone" is the forest call on a row
already filled. ``--stock-codegen`` also compiles the model with lleaves' own categorical
node, which shopguard replaces (``compiled.py``), and times its forest alone. onnxruntime
is measured when installed (``pip install -e '.[bench]'``). Prints a table on stderr and
JSON on stdout.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm
import lleaves
import numpy as np
from rich.console import Console
from rich.table import Table

from shopguard.model.card import ModelCard
from shopguard.model.compiled import CompiledForest
from shopguard.model.gbm import GbmScorer

VALUES = 50  # per synthetic category column


def synthetic_model(
    folder: Path,
    trees: int,
    names: list[str],
    event_types: list[str] | None = None,
    categories: int = 0,
) -> None:
    """A model of ``trees`` full 31-leaf trees over ``names`` (model.txt + card.json), the
    last ``categories`` of them categories of 50 values: what it learned does not matter
    here, what a row costs does."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20_000, len(names)))
    cats = names[len(names) - categories :] if categories else []
    for i in range(len(names) - categories, len(names)):
        x[:, i] = rng.integers(0, VALUES, len(x))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(size=len(x)) > 1.5).astype(float)
    if cats:  # some values of the first category carry risk, so trees split on them
        y = np.maximum(y, (x[:, -1] % 7 == 0) & (rng.random(len(x)) < 0.5))
    params = {"objective": "binary", "num_leaves": 31, "verbose": -1, "min_data_in_leaf": 20}
    data = lightgbm.Dataset(x, y, feature_name=names, categorical_feature=cats)
    booster = lightgbm.train(params, data, trees)
    booster.save_model(str(folder / "model.txt"))
    card = ModelCard(
        version="synthetic", created=time.time(), features=names, label="synthetic",
        train_window=(0.0, 0.0), valid_window=(0.0, 0.0), rows={}, params=params,
        best_iteration=trees, metrics={}, thresholds=[], event_types=event_types or [],
        categories={n: [f"v{i}" for i in range(VALUES)] for n in cats},
    )  # fmt: skip
    card.write(folder / "card.json")


def _timed(score: Callable[[dict[str, float]], float], rows: list[dict[str, float]]) -> float:
    """The median of 7 passes over the rows: a shared machine's slow passes move it less
    than they move a mean, and its one lucky pass not at all."""
    passes = []
    for _ in range(7):
        started = time.perf_counter()
        for values in rows:
            score(values)
        passes.append((time.perf_counter() - started) / len(rows))
    return statistics.median(passes) * 1e6


def _onnx(booster: lightgbm.Booster, names: list[str]) -> Callable[[dict[str, float]], float]:
    import onnxruntime
    from onnxmltools.convert import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    graph = convert_lightgbm(
        booster, initial_types=[("x", FloatTensorType([None, len(names)]))], zipmap=False
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(graph.SerializeToString(), options)
    output = session.get_outputs()[1].name
    row = np.empty((1, len(names)), dtype=np.float32)

    def score(values: dict[str, float]) -> float:
        row[0] = [values.get(n, math.nan) for n in names]
        return float(session.run([output], {"x": row})[0][0, 1])

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a registered model's folder (model.txt + card.json)")
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--categories", type=int, default=0, help="how many are categories")
    parser.add_argument(
        "--stock-codegen", action="store_true",
        help="also time the forest compiled with lleaves' own categorical node (one more compile)",
    )  # fmt: skip
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    folder = Path(args.model) if args.model else Path(scratch.name)
    if not args.model:
        names = [f"input_{i}" for i in range(args.features)]
        synthetic_model(folder, args.trees, names, categories=args.categories)
    booster = lightgbm.Booster(model_file=str(folder / "model.txt"))
    card = ModelCard.read(folder / "card.json")
    names = list(card.features)
    rng = np.random.default_rng(2)
    drawn = rng.normal(size=(args.rows, len(names)))
    # the engine's scope holds a category as text: every backend but shopguard's is given
    # the code already (the lookup it would need is what the shopguard row pays for)
    coded = [i for i, n in enumerate(names) if n in card.categories]
    drawn[:, coded] = rng.integers(0, VALUES + 5, (args.rows, len(coded)))  # 5 unseen
    rows = [dict(zip(names, map(float, r), strict=True)) for r in drawn]
    texts = [{n: (f"v{int(v)}" if n in card.categories else v) for n, v in r.items()} for r in rows]
    for r in rows:  # codes outside the encoding are missing, as the scorer reads them
        for i in coded:
            if r[names[i]] >= VALUES:
                r[names[i]] = math.nan
    started = time.perf_counter()
    scorer = GbmScorer(folder)
    compile_s = time.perf_counter() - started
    matrix = np.empty((1, len(names)))

    def booster_predict(values: dict[str, float]) -> float:
        matrix[0] = [values.get(n, math.nan) for n in names]
        return float(booster.predict(matrix, num_threads=1)[0])

    forest = CompiledForest(folder / "model.txt")

    def lleaves_predict(values: dict[str, float]) -> float:
        matrix[0] = [values.get(n, math.nan) for n in names]
        return float(forest._model.predict(matrix, n_jobs=1)[0])

    backends: dict[str, Callable[[dict[str, float]], float]] = {
        "lightgbm Booster.predict": booster_predict,
        "lleaves Model.predict": lleaves_predict,
    }
    by_row = {id(r): t for r, t in zip(rows, texts, strict=True)}
    filled = {id(r): (ctypes.c_double * len(names))(*(r[n] for n in names)) for r in rows}
    out = (ctypes.c_double * 1)()

    def forest_alone(entry: Any) -> Callable[[dict[str, float]], float]:
        def score(values: dict[str, float]) -> float:
            entry(filled[id(values)], out, 0, 1)
            return float(out[0])

        return score

    backends["compiled forest alone (row already filled)"] = forest_alone(scorer._forest._entry)
    if args.stock_codegen:
        stock = lleaves.Model(model_file=str(folder / "model.txt"))
        stock.compile(cache=str(Path(scratch.name) / "stock.o"))  # lleaves' own code
        backends["compiled forest alone, lleaves' own categorical code"] = forest_alone(
            stock._c_entry_func
        )

    def shopguard(values: dict[str, float]) -> float:
        return scorer.score(by_row[id(values)]) or 0.0

    backends["shopguard scorer (lleaves entry, ctypes row)"] = shopguard
    try:
        backends["onnxruntime"] = _onnx(booster, names)
    except ImportError:
        print("onnxruntime/onnxmltools not installed: pip install -e '.[bench]'", file=sys.stderr)
    expected = booster.predict(np.array([[r[n] for n in names] for r in rows[:200]]))
    results: dict[str, Any] = {
        "trees": booster.num_trees(), "features": len(names), "categories": len(coded),
        "compile_s": round(compile_s, 1), "statistic": "median of 7 passes",
        "backends": {},
    }  # fmt: skip
    for name, score in backends.items():
        worst = max(abs(score(r) - e) for r, e in zip(rows[:200], expected, strict=True))
        results["backends"][name] = {"us_per_row": round(_timed(score, rows), 2), "max_diff": worst}
    title = f"one event, {results['trees']} trees, {len(names)} features ({len(coded)} categories)"
    table = Table(title=title)
    for column in ("backend", "µs per event", "max |diff| vs LightGBM"):
        table.add_column(column)
    for name, r in results["backends"].items():
        table.add_row(name, f"{r['us_per_row']:.2f}", f"{r['max_diff']:.1e}")
    Console(stderr=True).print(table)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
