"""Group commit: concurrent requests share one durable commit and each gets its own answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from shopguard.api.batcher import GATHER, GroupCommit
from shopguard.events import decode_event
from tests.api.test_decisions import _event
from tests.conftest import make_engine


def test_requests_arriving_together_share_one_commit(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    commits = 0
    commit = engine.log.commit

    def counting() -> None:
        nonlocal commits
        commits += 1
        commit()

    engine.log.commit = counting  # type: ignore[method-assign]
    group = GroupCommit(engine)

    async def burst() -> list[str]:
        events = [decode_event(_event(f"g{i}")) for i in range(20)]
        decisions = await asyncio.gather(*(group.decide(e) for e in events))
        return [d.event_id for d in decisions]

    assert asyncio.run(burst()) == [f"g{i}" for i in range(20)]
    assert commits == 1
    assert engine.find("shop", "g19") is not None
    alone = asyncio.run(burst())  # the same events again: answered from the journal
    assert alone == [f"g{i}" for i in range(20)]


def test_a_failing_batch_fails_every_caller(tmp_path: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    group = GroupCommit(engine)

    def broken(events: object, **options: object) -> None:
        raise RuntimeError("disk full")

    engine.decide_many = broken  # type: ignore[assignment, method-assign]

    async def burst() -> list[BaseException | object]:
        events = [decode_event(_event(f"f{i}")) for i in range(3)]
        return await asyncio.gather(*(group.decide(e) for e in events), return_exceptions=True)

    results = asyncio.run(burst())
    assert all(isinstance(r, RuntimeError) for r in results)


def test_a_batch_the_journal_refuses_keeps_nothing_and_every_caller_hears(tmp_path: Path) -> None:
    from shopguard.errors import StorageUnavailable
    from tests.state.disks import locked

    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path), journal_probe_every="0s")
    group = GroupCommit(engine)

    async def burst(prefix: str) -> list[BaseException | object]:
        events = [decode_event(_event(f"{prefix}{i}")) for i in range(20)]
        return await asyncio.gather(*(group.decide(e) for e in events), return_exceptions=True)

    with locked(engine.settings.journal_path):
        refused = asyncio.run(burst("r"))
    assert all(isinstance(r, StorageUnavailable) for r in refused)
    assert engine.find("shop", "r0") is None and engine.log.last_seq() == 0
    decided = asyncio.run(burst("r"))  # the same events, decided afresh now
    assert [getattr(d, "event_id", d) for d in decided] == [f"r{i}" for i in range(20)]
    assert engine.log.last_seq() == 20
    assert all(report.ok for report in engine.log.verify())


def test_requests_arriving_on_successive_turns_still_share_a_commit(tmp_path: Path) -> None:
    """A busy server reads its clients' next requests over several event-loop turns: the
    flush waits while the batch grows, up to GATHER turns, then commits once."""
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    sizes: list[int] = []
    decide_many = engine.decide_many

    def counting(events: list[Any], admitted: bool = False) -> list[Any]:
        sizes.append(len(events))
        return decide_many(events, admitted=admitted)

    engine.decide_many = counting  # type: ignore[method-assign]
    group = GroupCommit(engine)

    async def trickle(prefix: str) -> None:
        waiting = []
        for i in range(3 * GATHER):  # three requests read per turn
            event = decode_event(_event(f"{prefix}{i}"))
            waiting.append(asyncio.create_task(group.decide(event)))
            if i % 3 == 2:
                await asyncio.sleep(0)
        await asyncio.gather(*waiting)

    asyncio.run(trickle("t"))
    assert sizes == [3 * GATHER]  # not GATHER commits of three
    sizes.clear()
    alone = asyncio.run(group.decide(decode_event(_event("alone"))))  # idle: at once
    assert alone.event_id == "alone" and sizes == [1]
