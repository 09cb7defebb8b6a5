"""Group commit: requests that arrive together are decided together, with one durable
commit, and each answered once that commit returns.

A request's event is queued; the first one in an empty queue schedules a flush for the
next turn of the event loop, so every request already read by then joins the batch.
Nothing waits on a timer: an idle server answers one request exactly as fast as before,
a busy one amortizes the journal's commit over the batch.
"""

from __future__ import annotations

import asyncio

from shopguard.decision import Decision
from shopguard.engine import Engine
from shopguard.events.catalog import BaseEvent


class GroupCommit:
    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self.engine, self.max_batch = engine, max_batch
        self.pending: list[tuple[BaseEvent, asyncio.Future[Decision]]] = []

    async def decide(self, event: BaseEvent) -> Decision:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self.pending.append((event, future))
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_soon(self.flush)
        elif len(self.pending) >= self.max_batch:
            self.flush()
        return await future

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            # admitted one by one as each request came in (endpoints.py)
            decisions = self.engine.decide_many([event for event, _ in batch], admitted=True)
        except Exception as exc:  # nothing of the batch was acknowledged: every caller hears
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), decision in zip(batch, decisions, strict=True):
            if not future.done():  # the client may have gone away
                future.set_result(decision)
