"""Durable decisions/s on the SQLite journal and the PostgreSQL journal, in one run.

Decides the same simulated retail traffic (seed 7) in batches of 256 (``decide_many``:
one journal commit per batch, acknowledged once durable) into a fresh SQLite journal and
into a fresh schema of the PostgreSQL server at ``--dsn`` (default the machine's own,
127.0.0.1:5432 db test; synchronous_commit as the server has it), then reports each
one's decisions/s, the PostgreSQL/SQLite ratio (target >= 0.7) and bytes per stored
decision (PostgreSQL: pg_total_relation_size of every table and index of the schema /
rows; SQLite: the database and WAL files / rows). The schema is dropped afterwards.

    python bench/pg_journal.py > bench/out/pg_journal.json
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from rich.console import Console
from rich.table import Table

from shopguard import Engine
from shopguard.simulate import simulate
from shopguard.state.postgres import PostgresDecisionLog
from shopguard.state.protocol import LogRecord
from shopguard.state.sqlite import SqliteDecisionLog

KEYS = {"k1": "bench-secret-0123456789abcdef0123"}
BATCH = 256


def run(events: list[bytes], journal: str, dsn: str, rounds: int) -> dict[str, Any]:
    """The best of ``rounds`` fresh journals (a shared 2-core machine is noisy)."""
    best: dict[str, Any] = {}
    for _ in range(rounds):
        schema = f"bench_pg_journal_{secrets.token_hex(4)}"
        options: dict[str, Any] = {"decision_log": journal, "snapshot_every": 0}
        if journal == "postgres":
            options |= {"postgres_dsn": dsn, "postgres_schema": schema, "writer": "bench"}
        try:
            with tempfile.TemporaryDirectory() as tmp:
                engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, **options)
                started = time.perf_counter()
                for i in range(0, len(events), BATCH):
                    engine.decide_many(events[i : i + BATCH])
                elapsed = time.perf_counter() - started
                rows, size = engine.log.size()
                engine.log.close()
        finally:
            if journal == "postgres":
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())
        result = {
            "journal": journal,
            "events": len(events),
            "batch": BATCH,
            "decisions_per_s": round(len(events) / elapsed),
            "ms_per_batch": round(elapsed / -(-len(events) // BATCH) * 1000, 2),
            "rows": rows,
            "bytes_per_decision": round(size / rows) if rows else 0,
        }
        if not best or result["decisions_per_s"] > best["decisions_per_s"]:
            best = result
    return best


def journal_only(records: list[LogRecord], journal: str, dsn: str) -> dict[str, Any]:
    """The journals alone: the same records appended and committed 256 at a time."""
    schema = f"bench_pg_journal_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as tmp:
        log: Any = (
            SqliteDecisionLog(Path(tmp) / "decisions.db")
            if journal == "sqlite"
            else PostgresDecisionLog(dsn, schema, writer="bench", key=bytes(32))
        )
        try:
            started = time.perf_counter()
            for i in range(0, len(records), BATCH):
                for record in records[i : i + BATCH]:
                    log.append(record)
                log.commit()
            elapsed = time.perf_counter() - started
            log.close()
        finally:
            if journal == "postgres":
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())
    return {"journal": journal, "records": len(records),
            "records_per_s": round(len(records) / elapsed)}  # fmt: skip


def decided_records(events: list[bytes]) -> list[LogRecord]:
    """What an engine journals for ``events`` (facts and decisions), to replay alone."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.from_config(pack="retail", keys=KEYS, data_dir=tmp, snapshot_every=0)
        for i in range(0, len(events), BATCH):
            engine.decide_many(events[i : i + BATCH])
        out = []
        for r in engine.log.records_after(0):
            out.append(msgspec.structs.replace(r, decision=engine.log.decision(r.seq)))
        engine.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--journal-only", type=int, default=20_000, help="records")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    console = Console(stderr=True)
    with console.status("simulating"):
        events = [raw for raw, _ in simulate(args.events, seed=7)]
    results = []
    for journal in ("sqlite", "postgres"):
        with console.status(f"deciding into the {journal} journal"):
            results.append(run(events, journal, args.dsn, args.rounds))
    ratio = results[1]["decisions_per_s"] / results[0]["decisions_per_s"]
    with console.status("appending the same records to each journal alone"):
        records = decided_records(events[: args.journal_only])
        alone = [journal_only(records, journal, args.dsn) for journal in ("sqlite", "postgres")]
    alone_ratio = alone[1]["records_per_s"] / alone[0]["records_per_s"]
    out = {
        "python": sys.version.split()[0],
        "results": results,
        "postgres_vs_sqlite": round(ratio, 3),
        "journal_only": alone,
        "journal_only_postgres_vs_sqlite": round(alone_ratio, 3),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    table = Table("journal", "events", "decisions/s", "ms/batch of 256", "B/decision")
    for r in results:
        table.add_row(r["journal"], f"{r['events']:,}", f"{r['decisions_per_s']:,}",
                      f"{r['ms_per_batch']}", f"{r['bytes_per_decision']:,}")  # fmt: skip
    console.print(table)
    console.print(f"PostgreSQL / SQLite durable decisions/s: {ratio:.2f}x (target >= 0.7x)")
    for r in alone:
        console.print(f"journal alone, {r['journal']}: {r['records_per_s']:,} records/s")
    console.print(f"journal alone, PostgreSQL / SQLite: {alone_ratio:.2f}x")


if __name__ == "__main__":
    main()
