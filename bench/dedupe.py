"""Benchmark: memory the dedupe window holds per remembered event id (tracemalloc).

    python bench/dedupe.py                 # 500,000 ids at 5,000 events/s

Live, the window is max_event_ahead + max_event_behind (65 minutes by default) of ids;
in replay it is ``dedupe_window`` (7 days) of event time. Prints JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import tracemalloc

from shopguard.effects.dedupe import Dedupe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=500_000)
    parser.add_argument("--rate", type=float, default=5_000.0, help="events per second")
    args = parser.parse_args()
    dedupe = Dedupe(7 * 86400)
    tracemalloc.start()
    for i in range(args.ids):
        dedupe.remember("bench", Dedupe.key("bench", f"b{i}"), i + 1_000, 1.74e9 + i / args.rate)
    held, _ = tracemalloc.get_traced_memory()
    live_ids = args.rate * (300 + 3600)
    print(
        json.dumps(
            {
                "ids": args.ids,
                "bytes_per_id": round(held / args.ids),
                "live_window_ids_at_rate": round(live_ids),
                "live_window_mb_at_rate": round(live_ids * held / args.ids / 2**20),
            }
        )
    )


if __name__ == "__main__":
    main()
