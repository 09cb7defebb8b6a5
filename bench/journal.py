"""Bytes per stored decision, and what retention does to them.

Decides simulated retail traffic (honest shoppers and twelve attacks, seed 7) into a
fresh SQLite journal, then applies retention as it would run 45 days later (quiet
records past `retention_quiet` keep only their hashes) and 200 days later (everything
past `retention` is deleted). Also an attack-only run: a device farm whose every event
fires rules, so nothing is quiet and only the `retention` deletion bounds it.

    python bench/journal.py > bench/out/journal.json
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.simulate import simulate

KEYS = {"k1": "bench-secret-0123456789abcdef0123"}
DAY = 86400.0


def _size(tmp: str) -> int:
    db = sqlite3.connect(Path(tmp) / "decisions.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")  # measure live bytes, not pages freed for reuse
    db.close()
    return sum(p.stat().st_size for p in Path(tmp).iterdir() if p.name.startswith("decisions"))


def run(events: list[bytes], label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, snapshot_every=0)
        started = time.perf_counter()
        for i in range(0, len(events), 256):
            engine.decide_many(events[i : i + 256])
        elapsed = time.perf_counter() - started
        engine.checkpoint()
        snapshot = len((engine.log.load_snapshot() or (0, b""))[1])
        engine.log.close()
        full = _size(tmp) - snapshot
        db = sqlite3.connect(Path(tmp) / "decisions.db")
        newest = float(db.execute("SELECT MAX(time) FROM decisions").fetchone()[0])
        db.close()
        engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, snapshot_every=0)
        counts = engine.compact(now=newest + 45 * DAY)
        engine.log.close()
        thinned = _size(tmp) - snapshot
        engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, snapshot_every=0)
        deleted = engine.compact(now=newest + 200 * DAY)
        engine.log.close()
        left = _size(tmp)
    n = len(events)
    return {
        "run": label,
        "events": n,
        "decided_per_s": round(n / elapsed),
        "bytes_per_decision": round(full / n),
        "quiet_share": round(counts["thinned"] / n, 4),
        "bytes_per_decision_after_thinning": round(thinned / n),
        "deleted_after_retention": deleted["deleted"],
        "bytes_left_after_retention": left,  # mostly the snapshot of feature state
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    console = Console(stderr=True)
    with console.status("simulating"):
        mixed = [raw for raw, _ in simulate(args.events, seed=7)]
        attack = [raw for raw, truth in simulate(args.events * 3, seed=11) if truth.attack]
    results = []
    with console.status("journaling simulated traffic"):
        results.append(run(mixed, "simulated retail traffic (seed 7)"))
    with console.status("journaling attack traffic only"):
        results.append(run(attack[: args.events], "attack events only (seed 11)"))
    json.dump({"python": sys.version.split()[0], "results": results}, sys.stdout, indent=2)
    print()
    table = Table("run", "events", "B/decision", "quiet", "B/decision thinned", "after retention")
    for r in results:
        table.add_row(
            r["run"],
            f"{r['events']:,}",
            f"{r['bytes_per_decision']:,}",
            f"{r['quiet_share']:.1%}",
            f"{r['bytes_per_decision_after_thinning']:,}",
            f"{r['deleted_after_retention']:,} deleted, {r['bytes_left_after_retention']:,} B left",
        )
    console.print(table)


if __name__ == "__main__":
    main()
