"""/readyz's checks (api/ready.py): every dependency named, up or down with its reason; a
network check past its deadline counts as down; one round serves every caller for a
moment, so a flood of probes costs the dependencies nothing."""

from __future__ import annotations

import asyncio
import threading
import time

from shopguard.api.ready import Check, Readiness, body


def test_each_dependency_is_reported_with_its_reason() -> None:
    hung = threading.Event()
    checks = [
        Check("journal", lambda: None),
        Check("state", lambda: "Redis unreachable: refused", threaded=True),
        Check("registries", lambda: None if hung.wait(0.6) else "late", threaded=True),
    ]
    found = asyncio.run(Readiness(checks, deadline=0.2).report())
    hung.set()
    assert list(found) == ["journal", "state", "registries"]
    assert body(found) == {
        "journal": {"status": "up"},
        "state": {"status": "down", "reason": "Redis unreachable: refused"},
        "registries": {"status": "down", "reason": "no answer within 0.2s"},
    }


def test_a_flood_of_probes_runs_one_round_of_checks() -> None:
    calls: list[float] = []

    def probe() -> None:
        calls.append(time.monotonic())
        time.sleep(0.05)

    readiness = Readiness([Check("state", probe, threaded=True)], fresh=30)

    async def flood() -> None:
        await asyncio.gather(*(readiness.report() for _ in range(100)))
        await readiness.report()

    asyncio.run(flood())
    assert len(calls) == 1
