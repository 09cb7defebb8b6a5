"""What a refused batch costs: the time from a failed journal commit to an engine whose
memory holds exactly what is durable again.

A commit that fails (disk full, locked) makes the engine rebuild its feature state, lists
and dedupe window from the snapshot plus the journal records after it, as a restart
would (engine.py ``_undo``). This decides simulated retail traffic into a SQLite
journal, snapshots after ``--base`` events, decides ``--tail`` more, then makes the next
batch fail for real (``PRAGMA max_page_count``: sqlite's SQLITE_FULL, what a full disk
raises) and times that failing ``decide_many``. While the journal stays down, later
requests are refused at once (no rebuild) until a probe succeeds: one rebuild per
outage, not per request. Decisions/s without any fault are printed for scale.

    python bench/storage_rollback.py --tail 10000 --tail 100000 > bench/out/storage_rollback.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.errors import StorageUnavailable
from shopguard.simulate import simulate

KEYS = {"k1": "bench-secret-0123456789abcdef0123"}
BATCH = 256


def run(events: list[bytes], base: int, tail: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, snapshot_every=0)
        for i in range(0, base, BATCH):
            engine.decide_many(events[i : min(i + BATCH, base)])
        engine.checkpoint()
        started = time.perf_counter()
        for i in range(base, base + tail, BATCH):
            engine.decide_many(events[i : min(i + BATCH, base + tail)])
        rate = tail / (time.perf_counter() - started)
        db = engine.log.reader()  # type: ignore[attr-defined]
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        db.execute(f"PRAGMA max_page_count = {pages}")  # the journal is full from here on
        refused = events[base + tail : base + tail + BATCH]
        started = time.perf_counter()
        try:
            engine.decide_many(refused)
        except StorageUnavailable:
            pass
        else:
            raise SystemExit("the batch was not refused: the journal did not fill")
        undo = time.perf_counter() - started
        started = time.perf_counter()
        for raw in refused:  # while down: refused at once, state untouched
            with contextlib.suppress(StorageUnavailable):
                engine.decide(raw)
        refuse = (time.perf_counter() - started) / len(refused)
        engine.log.close()
    return {
        "snapshot_at": base,
        "records_after_snapshot": tail,
        "decided_per_s": round(rate),
        "failed_batch_s": round(undo, 3),
        "replayed_per_s": round(tail / undo),
        "refused_event_while_down_us": round(refuse * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=20_000)
    parser.add_argument("--tail", type=int, action="append")
    args = parser.parse_args()
    tails = args.tail or [10_000, 100_000]
    console = Console(stderr=True)
    with console.status("simulating"):
        events = [raw for raw, _ in simulate(args.base + max(tails) + BATCH, seed=7)]
    results = []
    for tail in tails:
        with console.status(f"{tail:,} records after the snapshot"):
            results.append(run(events, args.base, tail))
    json.dump({"python": sys.version.split()[0], "results": results}, sys.stdout, indent=2)
    print()
    table = Table("records after snapshot", "decided/s", "failed batch (s)", "replayed/s")
    for r in results:
        table.add_row(
            f"{r['records_after_snapshot']:,}",
            f"{r['decided_per_s']:,}",
            f"{r['failed_batch_s']:.3f}",
            f"{r['replayed_per_s']:,}",
        )
    console.print(table)
    console.print(f"refused while down: {results[-1]['refused_event_while_down_us']} µs per event")


if __name__ == "__main__":
    main()
