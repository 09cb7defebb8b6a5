"""Benchmark: decisions/s through `shopguard consume` from NATS JetStream, against the same
events decided in-process with `decide_many` batches (the engine's own durable bound).

    python bench/consume.py                       # 20,000 events, batches of 256
    python bench/consume.py --events 50000 --batch 64 --batch 256 --batch 1024
    python bench/consume.py --repeat 3            # medians, each consume run paired
                                                  # with an in-process run beside it

The events (bench/stream.py's retail stream) are published into a stream of their own on
the machine's NATS (127.0.0.1:4222, --url) first, so the consumer never waits for the
publisher; then `shopguard consume` (a process, SQLite journal in a temp data dir) reads
them with a durable consumer, decides, publishes each decision (and alert) per tenant and
acknowledges, with and without a JetStream stream storing the decisions. Its rate counts
from its first message to its last acknowledgement (the consumer's own summary line).
Prints a table on stderr and JSON on stdout; the streams are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
from rich.console import Console
from rich.table import Table

from shopguard import Engine
from stream import decide_all, generate

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"k1": "bench-secret-key-0123456789abcdef"}


async def _publish(url: str, stream: str, subject: str, events: list[bytes]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject.rsplit(".", 1)[0] + ".>"])
    for i, raw in enumerate(events):
        await nc.publish(subject, raw)
        if i % 5000 == 4999:
            await nc.flush()
    await nc.flush()
    while (await js.stream_info(stream)).state.messages < len(events):
        await asyncio.sleep(0.05)
    await nc.close()


async def _streams(url: str, make: dict[str, list[str]], drop: list[str]) -> dict[str, int]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    held = {}
    for name in drop:
        try:
            held[name] = (await js.stream_info(name)).state.messages
            await js.delete_stream(name)
        except nats.js.errors.NotFoundError:
            pass
    for name, subjects in make.items():
        await js.add_stream(name=name, subjects=subjects)
    await nc.close()
    return held


def consume_run(url: str, events: list[bytes], batch: int, store: bool) -> dict[str, Any]:
    """One `shopguard consume` over ``events``: its rate and what it decided."""
    tag = f"bench{secrets.token_hex(4)}"
    stream, out = f"SGBENCH_{tag}", f"SGBENCH_{tag}_OUT"
    if store:
        subjects = [f"{tag}.decisions.>", f"{tag}.alerts.>"]
        asyncio.run(_streams(url, {out: subjects}, []))
    asyncio.run(_publish(url, stream, f"{tag}.events.bench", events))
    with tempfile.TemporaryDirectory(prefix="sg-consume-") as tmp:
        config = Path(tmp) / "settings.yaml"
        keys = "".join(f"  {k}: {v}\n" for k, v in KEYS.items())
        config.write_text(
            f"event_time: replay\ndata_dir: {tmp}/data\nkeys:\n{keys}active_key: k1\n"
            f"nats_url: {url}\nnats_stream: {stream}\nnats_durable: {tag}\n"
            f"nats_decisions: {tag}.decisions\nnats_alerts: {tag}.alerts\n"
        )
        argv = [sys.executable, "-m", "shopguard.cli", "consume", "-c", str(config)]
        argv += ["--batch", str(batch), "--idle-stop", "1"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    held = asyncio.run(_streams(url, {}, [stream, out]))
    summary = re.search(r"([\d,]+) decided, ([\d,]+) answered .*?([\d,]+)/s", done.stderr)
    if done.returncode != 0 or summary is None:
        raise SystemExit(f"consume failed ({done.returncode}): {done.stderr[-2000:]}")
    decided, again, rate = (int(g.replace(",", "")) for g in summary.groups())
    return {
        "batch": batch,
        "decisions_stored": store,
        "events": len(events),
        "decided": decided,
        "answered_again": again,
        "per_s": rate,
        "stored_outputs": held.get(out),
    }


def in_process(events: list[bytes], batch: int) -> dict[str, Any]:
    """The same events through ``decide_many`` batches, SQLite journal: the bound."""
    with tempfile.TemporaryDirectory(prefix="sg-bound-") as tmp:
        engine = Engine.from_config(data_dir=tmp, keys=KEYS, active_key="k1", event_time="replay")
        seconds = decide_all(engine, events, batch)
        engine.close()
    return {"batch": batch, "events": len(events), "per_s": round(len(events) / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per row, medians kept (a loaded machine)"
    )
    args = parser.parse_args()
    events = list(generate(args.events))
    rows = []
    for batch in args.batch or [256]:
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for _ in range(args.repeat):  # interleaved: each pair meets the same load
            bound = in_process(events, batch)
            for store in (False, True):
                run = consume_run(args.url, events, batch, store)
                run["in_process_per_s"] = bound["per_s"]
                run["of_in_process"] = round(run["per_s"] / bound["per_s"], 2)
                runs[store].append(run)
        for store in (False, True):
            row = dict(runs[store][0])
            for field in ("per_s", "in_process_per_s", "of_in_process"):
                row[field] = statistics.median(r[field] for r in runs[store])
            row["runs"] = len(runs[store])
            rows.append(row)
    table = Table(title=f"shopguard consume, {args.events:,} events (NATS JetStream)")
    for column in ("batch", "decisions stored", "decided", "per s", "in-process per s", "ratio"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            str(r["batch"]),
            "JetStream" if r["decisions_stored"] else "published",
            f"{r['decided']:,}",
            f"{r['per_s']:,.0f}",
            f"{r['in_process_per_s']:,.0f}",
            f"{r['of_in_process']:.2f}x",
        )
    Console(stderr=True).print(table)
    json.dump({"events": args.events, "runs": rows}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
