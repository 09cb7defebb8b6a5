"""Benchmark: the shared registries in PostgreSQL (docs/cluster.md, Shared registries).

    python bench/registries.py                      # 200 rounds on 127.0.0.1:5432/test
    python bench/registries.py --rounds 1000 --dsn postgresql://db:5432/shopguard

In a schema of its own (dropped after), times: how long a ruleset change takes to
commit (append under the trail's lock, sealed head, revision bump, NOTIFY; then the
standing read back), how long from the change's start until another connection's
ChangeFeed hears it, a ``revision()`` poll, and an API key check on a worker (the cached
path, and after the feed marked the cache stale: a reload). Medians and p99 in
milliseconds. Prints a table on stderr and JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# bench/http.py would shadow the standard library's http (starlette imports http.client)
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import psycopg  # noqa: E402

from shopguard.api.keys_pg import PgKeys  # noqa: E402
from shopguard.registries import Change, ChangeFeed  # noqa: E402
from shopguard.registries.postgres import Where  # noqa: E402
from shopguard.rules.versions_pg import PgRulesets  # noqa: E402


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
    }


def _timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def run(dsn: str, rounds: int) -> dict[str, dict[str, float]]:
    where = Where(dsn, f"bench_registries_{secrets.token_hex(4)}", 5.0)
    heard: queue.Queue[tuple[float, Change]] = queue.Queue()
    feed = ChangeFeed(where)
    feed.subscribe(lambda change: heard.put((time.perf_counter(), change)), ["rulesets"])
    rulesets, keys = PgRulesets(where, b"k" * 32), PgKeys(where)
    try:
        feed.start(wait=5.0)
        number = rulesets.upload("rules: []\n", "bench").number
        heard.get(timeout=2.0)
        commits, delays = [], []
        for i in range(rounds):
            start = time.perf_counter()
            rulesets.change("publish" if i % 2 == 0 else "rollback", "bench", number)
            done = time.perf_counter()
            at, _ = heard.get(timeout=2.0)
            commits.append(done - start)
            delays.append(at - start)  # change() reads the standing back after commit
        _, secret = keys.create("shop", ["decide"])
        cached = _timed(lambda: keys.verify(secret), rounds)

        def reload() -> None:
            keys.stale()
            keys.verify(secret)

        return {
            "ruleset change (commit)": _ms(commits),
            "change start to heard by another feed": _ms(delays),
            "revision() poll": _ms(_timed(rulesets.revision, rounds)),
            "key check (cached)": _ms(cached),
            "key check after stale (reload)": _ms(_timed(reload, rounds)),
        }
    finally:
        feed.close()
        rulesets.close()
        keys.close()
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {where.schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    results = run(args.dsn, args.rounds)
    width = max(len(name) for name in results)
    print(f"{'':{width}}  median ms    p99 ms", file=sys.stderr)
    for name, row in results.items():
        print(f"{name:{width}}  {row['median_ms']:9.3f} {row['p99_ms']:9.3f}", file=sys.stderr)
    print(json.dumps({"rounds": args.rounds, "results": results}, indent=2))


if __name__ == "__main__":
    main()
