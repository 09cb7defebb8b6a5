"""Benchmark: distinct counts per key, exact sets vs the sliding HyperLogLog.

    python bench/distinct.py

For each cardinality, the cost of one add + one windowed count (what an event costs a
`distinct` feature) and the relative error. This is what set `distinct_exact_bound`:
exact below ~1,000 values per key is both cheaper and exact; the sketch bounds memory for
the rare key past that (a proxy exit, a device farm's gateway) at a stated 6.5% error.
If `datasketch` is installed its HyperLogLog is timed too, for comparison.
"""

from __future__ import annotations

import json
import time

from rich.console import Console
from rich.table import Table

from shopguard.features.distinct import DistinctSeries


def cost(cardinality: int, bound: int, reps: int = 20_000) -> tuple[float, float]:
    series = DistinctSeries()
    for i in range(cardinality):
        series.add(f"v{i}", float(i), 1e9, bound)
    started = time.perf_counter()
    for i in range(reps):
        series.add(f"v{i % cardinality}", float(cardinality + i), 1e9, bound)
        series.count(-1.0)
    per_event = (time.perf_counter() - started) / reps * 1e6
    error = abs(series.count(-1.0) - cardinality) / cardinality
    return per_event, error


def datasketch_cost(cardinality: int, reps: int = 5_000) -> float | None:
    try:
        from datasketch import HyperLogLog
    except ImportError:
        return None
    hll = HyperLogLog(p=8)
    for i in range(cardinality):
        hll.update(f"v{i}".encode())
    started = time.perf_counter()
    for i in range(reps):
        hll.update(f"v{i}".encode())
        hll.count()
    return (time.perf_counter() - started) / reps * 1e6


def main() -> None:
    rows = []
    for n in (3, 30, 300, 1_000, 5_000, 50_000):
        exact_us, _ = cost(n, bound=10**9, reps=2_000 if n >= 5_000 else 20_000)
        sketch_us, sketch_err = cost(n, bound=0, reps=2_000)
        rows.append(
            {
                "cardinality": n,
                "exact_us": round(exact_us, 2),
                "sketch_us": round(sketch_us, 2),
                "sketch_error": round(sketch_err, 4),
                "datasketch_us": datasketch_cost(n),
            }
        )
    table = Table(title="distinct: one add + one windowed count per event")
    for col in ("values per key", "exact µs", "sliding HLL µs", "HLL error", "datasketch µs"):
        table.add_column(col, justify="right")
    for r in rows:
        ds = r["datasketch_us"]
        table.add_row(
            f"{r['cardinality']:,}",
            str(r["exact_us"]),
            str(r["sketch_us"]),
            f"{r['sketch_error']:.1%}",
            "-" if ds is None else f"{ds:.1f}",
        )
    Console(stderr=True).print(table)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
