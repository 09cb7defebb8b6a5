"""Benchmark: ``shopguard rings`` over a week of simulated traffic, and the community
methods against the simulator's truth.

    python bench/rings.py                        # 1M events, careful and default traffic
    python bench/rings.py --events 100000 --careful-only
    python bench/rings.py --leiden               # also igraph + leidenalg (side venv)

A week of events is decided once into a journal (retail pack, SQLite) kept under
``--cache`` (building 1M events takes minutes); then the batch build is timed on it.
Match to truth: an attack's accounts (the simulator's attack name per event) are its
ring; recall is the share of attack accounts the build put in a ring, purity the share of
ring members that are attack accounts, and ``split`` how many rings one attack spans.
``cpu_s`` is the build's CPU time: its wall time on an idle core. Prints a table on stderr
and JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.rings.build import BuildOptions, build_book
from shopguard.state import make_decision_log
from stream import decide_all

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}


def journal(cache: Path, events: int, careful: bool, seed: int = 7) -> Path:
    """A data directory holding ``events`` simulated events decided by the retail pack
    (built once; the truth per event id beside it in truth.json)."""
    from shopguard.simulate import simulate

    where = cache / f"{events}-{seed}-{'careful' if careful else 'default'}"
    if (where / "done").exists():
        return where
    where.mkdir(parents=True, exist_ok=True)
    for old in where.iterdir():
        old.unlink()
    truth: dict[str, str] = {}
    raw: list[bytes] = []
    for event, t in simulate(events, seed=seed, careful=careful):
        raw.append(event)
        if t.attack:
            truth[msgspec.json.decode(event)["event_id"]] = t.attack
    engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=str(where), snapshot_every=0)
    seconds = decide_all(engine, raw, 256)
    engine.close()
    (where / "truth.json").write_text(json.dumps(truth))
    (where / "done").write_text(f"{seconds:.1f}\n")
    return where


def attack_accounts(data: Path) -> dict[str, str]:
    """Account pseudonym -> the attack it took part in (its events' truth)."""
    truth: dict[str, str] = json.loads((data / "truth.json").read_text())
    log = make_decision_log("sqlite", path=data / "decisions.db", read_only=True)
    found = {}
    for record in log.records_after(0):
        attack = truth.get(record.event_id)
        account = record.facts.get("account")
        if attack and account:
            found[account] = attack
    log.close()
    return found


def leiden(graph: Any) -> list[list[int]]:
    """igraph + leidenalg (modularity) over every pair's link weight."""
    import igraph
    import leidenalg

    from shopguard.rings.communities import pair_weights

    weights = pair_weights(graph)
    g = igraph.Graph(
        n=len(graph.members), edges=list(weights), edge_attrs={"w": list(weights.values())}
    )
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights="w", seed=1)
    groups = [list(c) for c in part if len(c) > 1]
    return sorted(groups, key=lambda c: (-len(c), c[0]))


def match(book: Any, truth: dict[str, str]) -> dict[str, Any]:
    """How the book's rings match the simulator's attacks."""
    attack_total = Counter(truth.values())
    in_ring: Counter[str] = Counter()
    spans: dict[str, set[str]] = defaultdict(set)
    members = attack_members = mixed = 0
    strong_members = strong_attack = 0
    for ring in book.rings:
        labels = [truth.get(m, "") for m in ring.members]
        members += len(labels)
        hits = sum(1 for x in labels if x)
        attack_members += hits
        mixed += 0 < hits < len(labels)
        if ring.score >= 0.5:
            strong_members += len(labels)
            strong_attack += hits
        for label in labels:
            if label:
                in_ring[label] += 1
                spans[label].add(ring.ring_id)
    per_attack = {
        name: {
            "accounts": n,
            "in_rings": round(in_ring[name] / n, 3),
            "rings": len(spans[name]),
        }
        for name, n in sorted(attack_total.items())
    }
    return {
        "rings": len(book.rings),
        "recall": round(sum(in_ring.values()) / max(len(truth), 1), 3),
        "purity": round(attack_members / max(members, 1), 3),
        "purity_score_0.5": round(strong_attack / max(strong_members, 1), 3),
        "mixed_rings": mixed,
        "per_attack": per_attack,
    }


def run(data: Path, method: str) -> dict[str, Any]:
    log = make_decision_log("sqlite", path=data / "decisions.db", read_only=True)
    timings: dict[str, float] = {}
    cpu = time.process_time()
    started = time.perf_counter()
    chosen = leiden if method == "leiden" else None

    def timed_find(graph: Any) -> list[list[int]]:
        from shopguard.rings.communities import components

        timings["read_s"] = time.perf_counter() - started
        t = time.perf_counter()
        found = chosen(graph) if chosen else components(graph)
        timings["communities_s"] = timings.get("communities_s", 0.0) + time.perf_counter() - t
        return found

    book, graph = build_book(log, BuildOptions(), communities=timed_find)
    timings["total_s"] = time.perf_counter() - started
    timings["cpu_s"] = time.process_time() - cpu  # the wall figure on an idle machine
    log.close()
    return {
        "method": method,
        "records": graph.records,
        "accounts": sum(len(t.members) for t in graph.tenants.values()),
        "hubs": sum(t.hubs for t in graph.tenants.values()),
        **{k: round(v, 2) for k, v in timings.items()},
        "book": book,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shopguard-rings"))
    parser.add_argument("--careful-only", action="store_true")
    parser.add_argument("--leiden", action="store_true", help="also igraph + leidenalg")
    args = parser.parse_args()
    console = Console(stderr=True, width=160)
    results = []
    for careful in (True,) if args.careful_only else (True, False):
        with console.status(f"journal of {args.events:,} events (careful={careful})"):
            data = journal(args.cache, args.events, careful)
        truth = attack_accounts(data)
        for method in ("components", "leiden") if args.leiden else ("components",):
            with console.status(f"rings: {method}"):
                result = run(data, method)
            result.update(
                traffic="careful" if careful else "default", **match(result.pop("book"), truth)
            )
            results.append(result)
    table = Table(title=f"shopguard rings over a week of {args.events:,} events")
    for name in (
        "traffic",
        "method",
        "records",
        "accounts",
        "hubs",
        "read_s",
        "communities_s",
        "total_s",
        "cpu_s",
        "rings",
        "recall",
        "purity",
        "purity_score_0.5",
        "mixed_rings",
    ):
        table.add_column(name, justify="left" if name in ("traffic", "method") else "right")
    for r in results:
        table.add_row(*(str(r[c.header]) for c in table.columns))  # type: ignore[index]
    console.print(table)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
