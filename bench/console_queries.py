"""Benchmark: the console's journal queries (ConsoleQueries) over the SQLite journal and
the PostgreSQL one, on the same decisions.

    python bench/console_queries.py                        # 40k decisions, 127.0.0.1:5432/test
    python bench/console_queries.py --decisions 200000 --dsn postgresql://db:5432/shopguard

Two tenants, one in ten decisions of ``shop`` held for review, 500 accounts and 700
cards; the PostgreSQL journal in a schema of its own (dropped after). Each query runs
once to warm up, then ``--rounds`` times: medians in milliseconds. Prints a table on
stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import psycopg  # noqa: E402

from shopguard.console.queries import ConsoleQueries, queries_for  # noqa: E402
from shopguard.decision import Decision, Reason  # noqa: E402
from shopguard.state.postgres import PostgresDecisionLog  # noqa: E402
from shopguard.state.protocol import LogRecord  # noqa: E402
from shopguard.state.sqlite import SqliteDecisionLog  # noqa: E402

START = 1.7e9


def fill(log: Any, count: int) -> None:
    """``count`` decisions, committed 1,000 at a time."""
    for i in range(count):
        tenant, held = ("shop", i % 10 == 1) if i % 2 else ("rival", False)
        outcome = "review" if held else "allow"
        reasons = [Reason("big_payment", "BIG", outcome, 1.0, "r")] if held else []
        shadow = [Reason("quiet", "QUIET", "deny", 1.0, "r")] if i % 7 == 0 else []
        decision = Decision(f"e{i}", tenant, "payment", START + i, outcome, 0.0, reasons, "r0",
                            "t", 1, shadow=shadow)  # fmt: skip
        facts = {"account": f"k1.a{i % 500}", "card": f"k1.c{i % 700}", "campaign": "gift"}
        log.append(LogRecord(i + 1, tenant, f"e{i}", START + i, "payment", int(held), facts,
                             decision))  # fmt: skip
        if i % 1000 == 999:
            log.commit()
    log.commit()


def timed(queries: ConsoleQueries, count: int, rounds: int) -> dict[str, float]:
    hour = START + count - 3600
    cases: dict[str, Callable[[], object]] = {
        "held": lambda: queries.held("shop"),
        "newest_time": lambda: queries.newest_time("shop"),
        "per_minute (1 h)": lambda: queries.per_minute("shop", hour),
        "top_terms (1 h)": lambda: queries.top_terms("shop", "rule:", hour),
        "shadow_hits": lambda: queries.shadow_hits(1_000_000),
        "timeline (20)": lambda: queries.timeline("shop", "account:k1.a7"),
        "linked": lambda: queries.linked("shop", "account:k1.a7"),
    }
    out = {}
    for name, run in cases.items():
        run()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            run()
            samples.append((time.perf_counter() - started) * 1000)
        out[name] = round(statistics.median(samples), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    lite = SqliteDecisionLog(Path(tempfile.mkdtemp()) / "decisions.db")
    fill(lite, args.decisions)
    results = {"sqlite": timed(queries_for(lite), args.decisions, args.rounds)}
    lite.close()
    schema = f"bench_console_{secrets.token_hex(4)}"
    pg = PostgresDecisionLog(args.dsn, schema, 30.0, key=b"k" * 32)
    try:
        fill(pg, args.decisions)
        pg.db().execute(f'ANALYZE "{schema}".decisions')
        results["postgres"] = timed(queries_for(pg), args.decisions, args.rounds)
    finally:
        pg.close()
        with psycopg.connect(args.dsn, autocommit=True) as db:
            db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"{args.decisions:,} decisions, median of {args.rounds} (ms)", file=sys.stderr)
    print(f"{'query':18} {'sqlite':>9} {'postgres':>9}", file=sys.stderr)
    for name, ms in results["sqlite"].items():
        print(f"{name:18} {ms:9.2f} {results['postgres'][name]:9.2f}", file=sys.stderr)
    print(json.dumps({"decisions": args.decisions, "median_ms": results}))


if __name__ == "__main__":
    main()
