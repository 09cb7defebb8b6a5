"""Benchmark: the engine's decide() with the starter pack, against a hand-written twin,
and with the full retail pack over simulated retail traffic.

    python bench/engine.py                 # 1M events, retail pack, memory, FDH replay
    python bench/engine.py --events 200000 --retail-events 200000 --skip-fdh
    python bench/engine.py --rings-only --retail-events 200000   # the link graph's cost

Prints a table on stderr and JSON on stdout. Figures quoted in README come from here.
Everything runs in one process on one core (no threads), as a worker would.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from handwritten import HandWritten
from ring_cost import compare, graph_bytes, ring_packs
from shopguard import Engine
from shopguard.outcome import Outcome
from shopguard.version import build
from stream import decide_all, generate, shoppers

ROOT = Path(__file__).resolve().parents[1]
FDH = ROOT.parent / "shared" / "data" / "fdh" / "transactions.csv.gz"
KEYS = {"k1": "bench-secret-key-0123456789abcdef"}


def _percentiles(samples: array[int]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000  # noqa: E731
    return {"p50_us": pick(0.50), "p99_us": pick(0.99), "p999_us": pick(0.999)}


class Timed:
    """Throughput, latency and outcomes of one decide function over a stream."""

    def __init__(self, decide: Callable[[bytes], int]) -> None:
        self.decide = decide
        self.lat = array("q")
        self.outcomes = bytearray()
        self.seconds = 0.0

    def run(self, events: list[bytes]) -> None:
        decide, lat, outcomes, clock = self.decide, self.lat, self.outcomes, time.perf_counter_ns
        started = time.perf_counter()
        for raw in events:
            t0 = clock()
            outcome = decide(raw)
            lat.append(clock() - t0)
            outcomes.append(outcome)
        self.seconds += time.perf_counter() - started

    def result(self) -> dict[str, Any]:
        n = len(self.outcomes)
        return {
            "events": n,
            "seconds": round(self.seconds, 2),
            "per_s": round(n / self.seconds),
            **_percentiles(self.lat),
        }


def run_pair(events: list[bytes], chunk: int = 20_000) -> tuple[Timed, Timed]:
    """The engine and its hand-written twin over the same stream, alternating chunks."""
    engine = Engine.from_config(keys=KEYS, decision_log="memory")
    index = {str(o): int(o) for o in Outcome}
    twin = HandWritten(Engine.from_config(keys=KEYS, decision_log="memory").desensitize)
    ours = Timed(lambda raw: index[engine.decide(raw).outcome])
    theirs = Timed(lambda raw: twin.decide(raw)[0])
    _alternate(events, chunk, ours, theirs)
    return ours, theirs


def _alternate(events: list[bytes], chunk: int, *runs: Timed) -> None:
    """Each run over the same stream, chunk by chunk in turn, so a noisy machine slows
    them alike (each keeps its own state across chunks)."""
    for start in range(0, len(events), chunk):
        for timed in runs:
            timed.run(events[start : start + chunk])


def run_model(
    events: list[bytes], trees: int, types: list[str] | None, chunk: int = 20_000
) -> dict[str, Any]:
    """The starter pack with a ``trees``-tree model reading all the pack's features plus
    amount and hour, scoring events of ``types`` (None: every event), against the same
    engine without a model over the same chunks, alternating. Each keeps its own state."""
    from scorers import synthetic_model
    from shopguard.model.gbm import GbmScorer

    index = {str(o): int(o) for o in Outcome}
    plain = Engine.from_config(keys=KEYS, decision_log="memory")
    modelled = Engine.from_config(keys=KEYS, decision_log="memory")
    names = [*sorted(f.name for f in modelled.pack.features), "amount", "hour"]
    with tempfile.TemporaryDirectory() as folder:
        synthetic_model(Path(folder), trees, names, types)
        modelled.use_models(GbmScorer(folder))
    without = Timed(lambda raw: index[plain.decide(raw).outcome])
    scored = Timed(lambda raw: index[modelled.decide(raw).outcome])
    _alternate(events, chunk, without, scored)
    return {
        "trees": trees,
        "model_inputs": len(names),
        "scores": types or "every event",
        "with_model": scored.result(),
        "without_model": without.result(),
    }


def run_retail(count: int) -> dict[str, Any]:
    """The full retail pack over the simulator's traffic (honest shoppers and twelve
    attacks, seed 7): the figure issue 3 asks for. No twin: only the starter has one."""
    from shopguard.simulate import simulate

    events = [raw for raw, _ in simulate(count, seed=7)]
    gc.collect()
    gc.freeze()
    engine = Engine.from_config(pack="retail", keys=KEYS, decision_log="memory")
    index = {str(o): int(o) for o in Outcome}
    timed = Timed(lambda raw: index[engine.decide(raw).outcome])
    timed.run(events)
    result = timed.result()
    result["rules"], result["features"] = len(engine.rules.rules), len(engine.pack.features)
    del events
    gc.unfreeze()
    return result


def run_rings(count: int, chunk: int = 20_000) -> dict[str, Any]:
    """The retail pack over the simulator's traffic reading every ring value on every
    event type, against it reading none and with the graph off, same chunks (ring_cost.py)."""
    from shopguard.simulate import simulate

    events = [raw for raw, _ in simulate(count, seed=7)]
    gc.collect()
    gc.freeze()
    index = {str(o): int(o) for o in Outcome}
    engines = {
        name: Engine.from_config(pack=pack, keys=KEYS, decision_log="memory")
        for name, pack in ring_packs().items()
    }
    runs = {
        name: Timed(lambda raw, e=engine: index[e.decide(raw).outcome])
        for name, engine in engines.items()
    }
    _alternate(events, chunk, *runs.values())
    out: dict[str, Any] = {name: timed.result() for name, timed in runs.items()}
    compare(out)
    out["ring_types"] = len(engines["rings_read"].ring_types)
    out["graph"] = graph_bytes(engines["rings_read"].links)
    del events
    gc.unfreeze()
    return out


def run_durable(events: list[bytes], batch: int) -> dict[str, Any]:
    """The embedded default: SQLite WAL journal; ``batch`` events per durable commit."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_config(keys=KEYS, data_dir=tmp, snapshot_every=0)
        elapsed = decide_all(engine, events, batch)
        engine.log.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return {
        "events": len(events),
        "batch": batch,
        "per_s": round(len(events) / elapsed),
        "journal_bytes_per_event": round(size / len(events)),
    }


def run_memory(shopper_count: int) -> dict[str, Any]:
    """RSS growth per active entity (account, device, phone, card; IPs are shared)."""
    events = list(shoppers(shopper_count))
    gc.collect()
    engine = Engine.from_config(keys=KEYS, decision_log="memory", dedupe_window="1s")
    process = psutil.Process()
    before = process.memory_info().rss
    for i in range(0, len(events), 1000):
        engine.decide_many(events[i : i + 1000])
    gc.collect()
    after = process.memory_info().rss
    entities = shopper_count * 4 + min(shopper_count, 62_500)
    return {
        "entities": entities,
        "state_keys": len(engine.store),
        "rss_bytes_per_entity": round((after - before) / entities),
    }


def run_fdh() -> dict[str, Any] | None:
    if not FDH.exists():
        print(f"skipping FDH replay: {FDH} not found", file=sys.stderr)
        return None
    out = Path(tempfile.mkdtemp()) / "fdh-decisions.jsonl"
    cli = shutil.which("shopguard") or "shopguard"
    started = time.perf_counter()
    subprocess.run(
        [cli, "replay", str(FDH), "--mapping", "fdh", "--out", str(out)],
        check=True,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SHOPGUARD_KEYS": "k1:" + KEYS["k1"]},
    )
    elapsed = time.perf_counter() - started
    lines = sum(1 for _ in out.open("rb"))
    shutil.rmtree(out.parent)
    return {"events": lines, "seconds": round(elapsed, 1), "per_s": round(lines / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--shoppers",
        type=int,
        default=250_000,
        help="active shoppers for the memory figure (4 entities each)",
    )
    parser.add_argument("--retail-events", type=int, default=1_000_000)
    parser.add_argument("--skip-fdh", action="store_true")
    parser.add_argument("--rings-only", action="store_true", help="only the link graph's row")
    parser.add_argument("--model-events", type=int, default=300_000)
    parser.add_argument("--trees", type=int, default=300, help="trees in the model-on run")
    args = parser.parse_args()
    console = Console(stderr=True)
    if args.rings_only:
        with console.status("retail pack with ring values read, unread, off"):
            rings = run_rings(args.retail_events)
        print(json.dumps({"build": build(), "rings": rings}, indent=2))
        return
    with console.status("generating events"):
        events = list(generate(args.events))
    gc.collect()
    gc.freeze()  # the pre-generated stream is benchmark input, not engine state
    result: dict[str, Any] = {"python": sys.version.split()[0], "cpu": _cpu(), "build": build()}
    with console.status("engine and hand-written twin"):
        ours, theirs = run_pair(events)
    result["engine"], result["handwritten"] = ours.result(), theirs.result()
    engine_out, twin_out = ours.outcomes, theirs.outcomes
    agree = sum(a == b for a, b in zip(engine_out, twin_out, strict=True))
    result["agreement"] = round(agree / len(events), 6)
    result["ratio_vs_handwritten"] = round(
        result["engine"]["per_s"] / result["handwritten"]["per_s"], 3
    )
    result["outcomes"] = {str(Outcome(o)): engine_out.count(o) for o in range(4)}
    del ours, theirs  # each row measures its own engines, not beside the last row's
    _settle()
    with console.status(f"starter pack with a {args.trees}-tree model"):
        sample = events[: args.model_events]
        result["model"] = run_model(sample, args.trees, None)
        _settle()
        result["model_money"] = run_model(sample, args.trees, ["payment", "promo.claim"])
        _settle()
    durable_n = min(len(events), 200_000)
    with console.status("durable journal"):
        result["durable_batch256"] = run_durable(events[:durable_n], 256)
        result["durable_per_event"] = run_durable(events[: min(durable_n, 30_000)], 1)
    gc.unfreeze()
    del events, engine_out, twin_out
    gc.collect()
    with console.status("retail pack over simulated traffic"):
        result["retail_pack"] = run_retail(args.retail_events)
    with console.status("retail pack with ring values read, unread, off"):
        result["rings"] = run_rings(args.retail_events)
    with console.status("memory per entity"):
        result["memory"] = run_memory(args.shoppers)
    if not args.skip_fdh:
        with console.status("FDH replay through the CLI"):
            result["fdh_replay"] = run_fdh()
    _table(console, result)
    print(json.dumps(result, indent=2))


def _settle() -> None:
    """Free the engines of the row before: engines freeze what they allocate (the
    ``gc_freeze_every`` setting), so their garbage is collectable only once unfrozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _timed_row(name: str, t: dict[str, Any], note: str) -> tuple[str, ...]:
    return (name, f"{t['events']:,}", f"{t['per_s']:,}", str(t["p50_us"]), str(t["p99_us"]), note)


def _table(console: Console, r: dict[str, Any]) -> None:
    table = Table(title=f"ShopGuard engine benchmark (one core, {r['build']} build)")
    for col in ("run", "events", "decisions/s", "p50 µs", "p99 µs", "note"):
        table.add_column(col, justify="right" if col != "run" else "left")
    rp = r["retail_pack"]
    rows = [
        _timed_row(
            "engine decide(), starter pack",
            r["engine"],
            f"ratio {r['ratio_vs_handwritten']}x hand-written",
        ),
        _timed_row("hand-written", r["handwritten"], f"agreement {r['agreement']:.4%}"),
        _timed_row(
            "retail pack, simulated traffic", rp, f"{rp['rules']} rules, {rp['features']} features"
        ),
    ]
    for name in ("graph_unread", "rings_read"):
        run = r["rings"][name]
        note = f"{run['ratio']}x graph off, +{run['us_per_event_added']} µs"
        rows.append(_timed_row(f"retail, {name.replace('_', ' ')}", run, note))
    for key in ("model", "model_money"):
        mo = r[key]
        scope = "every event" if mo["scores"] == "every event" else "+".join(mo["scores"])
        rows.append(
            _timed_row(
                f"starter + {mo['trees']}-tree model on {scope}",
                mo["with_model"],
                f"{mo['without_model']['per_s']:,}/s without, same chunks",
            )
        )
    for key in ("durable_batch256", "durable_per_event"):
        d = r[key]
        note = f"{d['journal_bytes_per_event']} B/event journal"
        rows.append(
            (f"durable, {d['batch']}/commit", f"{d['events']:,}", f"{d['per_s']:,}", "", "", note)
        )
    m = r["memory"]
    rows.append(
        (
            "memory",
            f"{m['entities']:,} entities",
            "",
            "",
            "",
            f"{m['rss_bytes_per_entity']} B RSS/entity",
        )
    )
    if r.get("fdh_replay"):
        f = r["fdh_replay"]
        rows.append(
            (
                "FDH replay (CLI)",
                f"{f['events']:,}",
                f"{f['per_s']:,}",
                "",
                "",
                f"{f['seconds']} s end to end",
            )
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
