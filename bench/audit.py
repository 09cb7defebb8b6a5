"""What tamper evidence costs: durable decisions per second with one commit per event and
with batches of 256 (each commit seals its heads: two in-place head-file writes and a
MAC'd commit seal), the seal's own cost in µs, and `verify`'s speed (records per second,
every chain, the search index recomputed and the snapshot).

    python bench/audit.py [--events 20000] > bench/out/audit.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from shopguard import Engine
from shopguard.state.audit import HeadFile
from stream import decide_all, generate

KEYS = {"k1": "bench-secret-key-0123456789abcdef"}


def _seal_us(n: int = 20_000) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        heads = HeadFile(Path(tmp) / "x.head", b"k" * 32)
        chains = {name: (123_456, bytes(32)) for name in ("a", "b", "c", "d", "e")}
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(n):
                heads.write(chains, chains)
                heads.confirm(chains)
            best = min(best, (time.perf_counter() - started) / n * 1e6)
        heads.close()
    return round(best, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    events = list(generate(args.events))
    out: dict[str, object] = {"events": args.events, "seal_us_per_commit": _seal_us()}
    for batch in (1, 256):
        with tempfile.TemporaryDirectory() as tmp:
            engine = Engine.from_config(keys=KEYS, data_dir=tmp, snapshot_every=0)
            elapsed = decide_all(engine, events, batch)
            out[f"durable_per_s_batch{batch}"] = round(len(events) / elapsed)
            engine.checkpoint()
            if batch == 256:
                started = time.perf_counter()
                reports = engine.log.verify()  # type: ignore[attr-defined]
                elapsed = time.perf_counter() - started
                out["verify_ok"] = all(r.ok for r in reports)
                out["verify_records_per_s"] = round(len(events) / elapsed)
            engine.close()
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
