"""The worker inside `shopguard serve`: started with the app, on its event loop (the
journal is written from that thread only), stopped before the app closes its stores."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from shopguard.settings import Settings
from shopguard.webhooks import service
from shopguard.webhooks.worker import Worker, WorkerConfig

log = logging.getLogger("shopguard.webhooks")


def deliver_in(app: Starlette, settings: Settings) -> None:
    """Run the delivery worker for as long as ``app`` serves."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with inner(served) as state:
            try:
                store = service.store_of(app.state)
            except service.Unavailable as exc:
                log.warning("webhooks are not delivered: %s", exc)
                yield state
                return
            task = asyncio.create_task(Worker(store, WorkerConfig.from_settings(settings)).run())
            try:
                yield state
            finally:  # an attempt cut short is retried: its lease runs out
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.router.lifespan_context = lifespan
