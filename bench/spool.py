"""What the PostgreSQL spool costs: durable decisions/s in batches straight to PostgreSQL,
through the spool while PostgreSQL answers, into the spool while it is down (SIGKILLed),
and how fast the spool drains once it is back.

Starts its own PostgreSQL (``initdb``, as tests/servers.py does; fsync off there, so the
figures are CPU and round trips, not the disk), decides simulated retail traffic on
memory state, batches of 256, the same events in each mode. The drain is bounded by the
PostgreSQL journal's own insert cost (state/postgres), as deciding straight to it is.

    python bench/spool.py --events 50000 > bench/out/spool.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.simulate import simulate
from shopguard.state.spool import SpoolingLog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.servers import PostgresServer, postgres_server

KEYS = {"k1": "bench-secret-0123456789abcdef0123"}
BATCH = 256
WARM = 4 * BATCH


def _engine(server: PostgresServer, data_dir: str, schema: str, spool: bool) -> Engine:
    return Engine.from_config(
        pack="retail",
        keys=KEYS,
        data_dir=data_dir,
        snapshot_every=0,
        decision_log="postgres",
        postgres_dsn=server.dsn,
        postgres_schema=schema,
        writer="bench",
        spool=spool,
        spool_drain_every="3600s",  # drained by hand below, timed
    )


def _rate(engine: Engine, events: list[bytes]) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        engine.decide_many(events[i : i + BATCH])
    return len(events) / (time.perf_counter() - started)


def run(server: PostgresServer, events: list[bytes]) -> dict[str, Any]:
    warm, events = events[:WARM], events[WARM:]  # decided first, untimed, by each engine
    half = len(events) // 2
    out: dict[str, Any] = {"events": len(events), "batch": BATCH}
    with tempfile.TemporaryDirectory() as tmp:
        direct = _engine(server, tmp + "/direct", "direct", spool=False)
        _rate(direct, warm)
        out["postgres_per_s"] = round(_rate(direct, events[:half]))
        direct.close()
        engine = _engine(server, tmp + "/spooled", "spooled", spool=True)
        log = engine.log
        assert isinstance(log, SpoolingLog)
        _rate(engine, warm)
        out["through_spool_per_s"] = round(_rate(engine, events[:half]))
        server.kill()
        out["into_spool_per_s"] = round(_rate(engine, events[half:]))
        spooled = len(log.spool)
        server.start()
        started = time.perf_counter()
        moved = log.drain()
        out["drained_per_s"] = round(moved / (time.perf_counter() - started))
        out["spooled"], out["drained"] = spooled, moved
        spool_file = log.spool.path
        engine.close()
        out["spool_file_left"] = spool_file.exists()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    console = Console(stderr=True)
    with console.status("simulating"):
        events = [raw for raw, _ in simulate(args.events, seed=7)][: args.events]
    with (
        tempfile.TemporaryDirectory() as tmp,
        postgres_server(Path(tmp)) as server,
        console.status("deciding"),
    ):
        result = run(server, events)
    json.dump({"python": sys.version.split()[0], **result}, sys.stdout, indent=2)
    print()
    table = Table("journal", "decisions/s")
    table.add_row("PostgreSQL, no spool", f"{result['postgres_per_s']:,}")
    table.add_row("PostgreSQL through the spool", f"{result['through_spool_per_s']:,}")
    table.add_row("spool, PostgreSQL down", f"{result['into_spool_per_s']:,}")
    table.add_row("drain to PostgreSQL (records/s)", f"{result['drained_per_s']:,}")
    console.print(table)


if __name__ == "__main__":
    main()
