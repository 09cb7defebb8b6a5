"""The keyed client of `bench/chaos.py`: closed-loop keep-alive connections deciding fresh
events (stamped with the current time, unique ids), every answer recorded with its time,
and the ids answered 200 kept to check afterwards that none was lost."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from harness import HOST, post, quantile_ms, read_response

TIMEOUT, ERROR = -1, -2  # statuses of requests that got no answer
BACKOFF = 0.05  # a connection's pause after a 5xx or no answer, as a polite client's


def status_name(status: int) -> str:
    return {TIMEOUT: "timeout", ERROR: "no answer"}.get(status, str(status))


class Client:
    def __init__(
        self, port: int, key: str, tenant: str, templates: list[dict[str, Any]], prefix: str
    ) -> None:
        self.port, self.key, self.tenant, self.prefix = port, key, tenant, prefix
        self.templates = templates
        self.records: list[tuple[float, int]] = []  # (monotonic time answered, status)
        self.acked: list[str] = []
        self.until = math.inf
        self.log: Path | None = None  # the server's output, whose growth phases report
        self.sent = 0

    def event(self) -> tuple[str, bytes]:
        self.sent += 1
        event_id = f"{self.prefix}-{self.sent}"
        template = self.templates[self.sent % len(self.templates)]
        now = datetime.now(UTC).isoformat()
        event = {**template, "event_id": event_id, "tenant": self.tenant, "time": now}
        return event_id, msgspec.json.encode(event)

    async def connection(self, timeout: float) -> None:
        """Decide until ``self.until``; reconnect when the server closes or fails."""
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < self.until:
            status = ERROR
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 5)
                event_id, body = self.event()
                conn[1].write(post("/v1/decisions", body, self.key))
                status, _ = await asyncio.wait_for(read_response(conn[0]), timeout)
            except TimeoutError:
                status = TIMEOUT
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status = ERROR
            self.records.append((time.monotonic(), status))
            if status == 200:
                self.acked.append(event_id)
                continue
            if status < 0 and conn is not None:  # the answer may still come: not on this one
                conn[1].close()
                conn = None
            if status < 0 or status >= 500:
                await asyncio.sleep(BACKOFF)
        if conn is not None:
            conn[1].close()

    async def lookup(self, sample: int, seed: int = 1) -> Counter[str]:
        """GET /v1/decisions/{id} for ``sample`` of the acknowledged ids: statuses."""
        ids = random.Random(seed).sample(self.acked, min(sample, len(self.acked)))
        found: Counter[str] = Counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 5)
        except (OSError, TimeoutError):
            return Counter({"no connection": len(ids)})
        for event_id in ids:
            writer.write(
                f"GET /v1/decisions/{event_id} HTTP/1.1\r\nHost: b\r\n"
                f"Authorization: Bearer {self.key}\r\n\r\n".encode()
            )
            try:
                status, _ = await asyncio.wait_for(read_response(reader), 5)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                found["no answer"] += len(ids) - found.total()
                break
            found[str(status)] += 1
        writer.close()
        return found


def answers(records: list[tuple[float, int]], start: float, end: float) -> dict[str, Any]:
    """Decisions/s (answers 200) and answers by status in [start, end)."""
    statuses = Counter(status_name(s) for t, s in records if start <= t < end)
    seconds = max(end - start, 1e-9)
    return {
        "seconds": round(seconds, 2),
        "decisions_per_s": round(statuses.get("200", 0) / seconds, 1),
        "statuses": dict(sorted(statuses.items())),
    }


def probed(probe: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    """/healthz p50/p99 (a failed probe counts at its timeout) and /readyz states."""
    latencies = sorted(lat for t, lat in probe["healthz"] if start <= t < end)
    samples = [(t, state) for t, state in probe["readyz"] if start <= t < end]
    states = [state for _, state in samples]
    changes = [
        (round(t - start, 2), state)
        for i, (t, state) in enumerate(samples)
        if i == 0 or state != states[i - 1]
    ]
    return {
        "healthz": {
            "samples": len(latencies),
            "failed": sum(1 for t in probe["failed"] if start <= t < end),
            "p50_ms": quantile_ms(latencies, 0.5),
            "p99_ms": quantile_ms(latencies, 0.99),
        },
        "readyz": dict(Counter(states)),
        "readyz_changes": changes,  # (seconds into the span, state) where it changed
        "readyz_last": states[-1] if states else None,
    }


def first_ok(records: list[tuple[float, int]], after: float) -> float | None:
    """Seconds from ``after`` to the first decision answered 200 (None: none was)."""
    times = [t for t, s in records if s == 200 and t >= after]
    return round(min(times) - after, 3) if times else None
