"""Benchmark: where one decision's time goes, stage by stage (starter pack, one core).

    python bench/stages.py                  # without a model, then with a 300-tree model
    python bench/stages.py --events 200000  # a longer warm-up and timed run

Two views of the same engine over the generated stream of ``bench/engine.py``:

- *alone*: each stage in a tight loop over the same events (decode, desensitize, lists,
  feature read, model score, rules): the stage's own cost with warm caches;
- *in the loop*: ``decide()`` with each stage wrapped in a timer, so stages pay for each
  other's cache misses as they do in service. Each wrapper adds ~0.1-0.3 µs to its stage.

Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.events import decode_event
from shopguard.version import build
from stream import generate

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}
STAGES = (
    "decode",
    "desensitize",
    "lists",
    "feature read",
    "model score",
    "rules",
    "fold into state",
    "journal append",
    "dedupe window",
    "everything else",
    "decide",
)


def _engine(trees: int) -> Engine:
    engine = Engine.from_config(keys=KEYS, decision_log="memory")
    if trees:
        from scorers import synthetic_model
        from shopguard.model.gbm import GbmScorer

        names = [*sorted(f.name for f in engine.pack.features), "amount", "hour"]
        folder = Path(tempfile.mkdtemp())
        synthetic_model(folder, trees, names)
        engine.use_models(GbmScorer(folder))
    return engine


def _per_event(fn: Callable[[Any], Any], items: Iterable[Any], count: int) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return round((time.perf_counter() - started) / count * 1e6, 2)


def alone(engine: Engine, events: list[bytes]) -> dict[str, float]:
    """Each stage over the same (not yet decided) events, with nothing else between."""
    n = len(events)
    out = {"decode": _per_event(decode_event, events, n)}
    decoded = [decode_event(raw) for raw in events]
    out["desensitize"] = _per_event(engine.desensitize, decoded, n)
    facts = [engine.desensitize(event)[0] for event in decoded]
    out["lists"] = _per_event(lambda f: engine.lists.check(f, f["time"]), facts, n)
    load, plans = engine.store.load, engine.plans
    out["feature read"] = _per_event(lambda f: plans[f["type"]].read(f, load), facts, n)
    scopes = [{**f, **plans[f["type"]].read(f, load)[0]} for f in facts]
    if engine.scorer.features:
        out["model score"] = _per_event(engine.scorer.score, scopes, n)
    out["rules"] = _per_event(lambda s: engine.rules.evaluate(s["type"], s), scopes, n)
    return out


def in_loop(engine: Engine, events: list[bytes]) -> dict[str, float]:
    """``decide()`` over ``events`` with its stages timed where they run."""
    spent: dict[str, int] = defaultdict(int)
    clock = time.perf_counter_ns

    def timed(owner: Any, attribute: str, label: str) -> None:
        inner = getattr(owner, attribute)

        def wrapper(*args: Any) -> Any:
            started = clock()
            result = inner(*args)
            spent[label] += clock() - started
            return result

        setattr(owner, attribute, wrapper)

    timed(engine, "desensitize", "desensitize")
    for plan in engine.plans.values():
        timed(plan, "read", "feature read")
        timed(plan, "apply", "fold into state")
    if engine.scorer.features:
        timed(engine.scorer, "score", "model score")
    timed(engine.rules, "evaluate", "rules")
    timed(engine.log, "append", "journal append")
    timed(engine, "_remember", "dedupe window")
    started = clock()
    for raw in events:
        engine.decide(raw)
    total = (clock() - started) / len(events) / 1000
    out = {label: round(ns / len(events) / 1000, 2) for label, ns in spent.items()}
    out["everything else"] = round(total - sum(out.values()), 2)
    out["decide"] = round(total, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000, help="warm-up, then as many timed")
    parser.add_argument("--trees", type=int, default=300, help="trees in the model run (0: none)")
    args = parser.parse_args()
    if build() != "pure":
        # the in-loop view wraps the engine's methods, which compiled classes refuse
        raise SystemExit("bench/stages.py times the pure build: run it from a source checkout")
    stream = list(generate(args.events * 3))
    gc.collect()
    gc.freeze()
    warm, first, second = (stream[i * args.events : (i + 1) * args.events] for i in range(3))
    result: dict[str, Any] = {"events": args.events, "build": build()}
    for name, trees in (("no model", 0), (f"{args.trees}-tree model", args.trees)):
        if name != "no model" and not trees:
            continue
        engine = _engine(trees)
        for raw in warm:
            engine.decide(raw)
        result[name] = {"alone": alone(engine, first), "in the loop": in_loop(engine, second)}
    _table(result)
    print(json.dumps(result, indent=2))


def _table(result: dict[str, Any]) -> None:
    runs = [k for k in result if k not in ("events", "build")]
    table = Table(
        title=f"µs per event by stage (starter pack, {result['events']:,} events, "
        f"{result['build']} build)"
    )
    table.add_column("stage")
    for run in runs:
        table.add_column(f"{run}: alone", justify="right")
        table.add_column(f"{run}: in the loop", justify="right")
    for stage in STAGES:
        cells = [
            f"{result[run][view][stage]:.1f}" if stage in result[run][view] else ""
            for run in runs
            for view in ("alone", "in the loop")
        ]
        table.add_row(stage, *cells)
    Console(stderr=True).print(table)


if __name__ == "__main__":
    main()
