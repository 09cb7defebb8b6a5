"""The delivery worker: fans the outbox and list changes out to matching endpoints,
then sends what is due, at least once, in order per endpoint.

A 2xx is delivered; a 410 Gone disables the endpoint (its pending messages end as dead);
any other answer, a timeout or a refused connection is retried on the schedule
(``webhooks_retry_schedule``, the last delay repeating, each lengthened by up to
``webhooks_retry_jitter``) until ``webhooks_retry_window`` has passed since the message
was first due, then dead-lettered. Everything is in the journal's tables, so a restart
(of the worker or of the receiver) resumes with the same webhook-ids. On a PostgreSQL
journal several workers deliver side by side: each outbox row is fanned out once, each
endpoint is leased to one worker at a time, so every message is sent once (barring a
worker that dies mid-attempt: its lease runs out and the message is sent again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import NamedTuple

import httpx

from shopguard.features.spec import parse_duration
from shopguard.settings import Settings
from shopguard.webhooks import signing, targets
from shopguard.webhooks.endpoints import matches
from shopguard.webhooks.log import Attempt
from shopguard.webhooks.messages import from_list_op, from_outbox
from shopguard.webhooks.protocol import Source, Staged, WebhookStorage
from shopguard.webhooks.store import Outgoing

log = logging.getLogger("shopguard.webhooks")
_BATCH = 500  # outbox rows or list changes fanned out per transaction
_PRUNE_EVERY = 3600.0  # seconds between forgetting finished deliveries past retention


class Schedule(NamedTuple):
    delays: tuple[float, ...]
    window: float
    jitter: float

    def next_due(
        self, attempts: int, first_due: float, now: float, rand: Callable[[], float]
    ) -> float | None:
        """When to try again after ``attempts`` failed attempts; None: dead letter (the
        window has passed)."""
        if now - first_due >= self.window:
            return None
        delay = self.delays[min(attempts, len(self.delays)) - 1]
        return now + delay * (1 + self.jitter * rand())


class WorkerConfig(NamedTuple):
    schedule: Schedule
    timeout: float
    poll: float
    concurrency: int
    allow_private: bool
    keep: float = 180 * 86_400.0  # finished deliveries are forgotten after (retention)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        delays = tuple(parse_duration(d) for d in settings.webhooks_retry_schedule)
        window = parse_duration(settings.webhooks_retry_window)
        return cls(
            Schedule(delays, window, settings.webhooks_retry_jitter),
            parse_duration(settings.webhooks_timeout),
            parse_duration(settings.webhooks_poll),
            settings.webhooks_concurrency,
            settings.webhooks_allow_private,
            parse_duration(settings.retention),
        )


class Worker:
    def __init__(
        self,
        store: WebhookStorage,
        config: WorkerConfig,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store, self.config, self.clock, self.rand = store, config, clock, rand
        self._client: httpx.AsyncClient | None = None
        self._pruned = 0.0

    def fan_out(self) -> int:
        """Turn new outbox rows and list changes into deliveries; returns how many."""
        endpoints = [e for e in self.store.endpoints() if e.status == "enabled"]
        if self.store.cursor("list") is None:  # list history before webhooks is not news
            self.store.start_cursor("list", self.store.last_list_op())
        staged = [0]

        def route(source: Source, found: list[tuple[int, bytes]], now: float) -> list[Staged]:
            if source == "outbox":
                messages = [m for i, p in found for m in from_outbox(i, p)]
            else:
                messages = [m for i, op in found if (m := from_list_op(i, op)) is not None]
            rows: list[Staged] = []
            for m in messages:
                body = m.body(now)
                rows += [
                    (e.id, e.tenant, m.source, m.type, body)
                    for e in endpoints
                    if e.tenant == m.tenant and matches(e, m.kind, m.data)
                ]
            staged[0] += len(rows)
            return rows

        sources: tuple[Source, ...] = ("outbox", "list")
        for source in sources:
            while self.store.fan_out_batch(source, route, _BATCH, self.clock()):
                pass
        return staged[0]

    async def pass_once(self) -> int:
        """Fan out, then attempt every due delivery once; returns the attempts made."""
        self.fan_out()
        if self.clock() - self._pruned > _PRUNE_EVERY:
            self._pruned = self.clock()
            self.store.prune(self._pruned - self.config.keep)
        lease = self.config.timeout + 30
        due = self.store.claim(self.clock(), self.config.concurrency * 8, lease)
        by_endpoint: dict[str, list[Outgoing]] = {}
        for delivery in due:
            by_endpoint.setdefault(delivery.endpoint, []).append(delivery)
        gate = asyncio.Semaphore(self.config.concurrency)

        async def in_order(queue: list[Outgoing]) -> int:
            async with gate:
                for n, delivery in enumerate(queue):
                    if not await self.attempt(delivery):  # the rest wait for that retry
                        self.store.release([d.id for d in queue[n + 1 :]], delivery.id)
                        return n + 1
                return len(queue)

        try:
            done = await asyncio.gather(*(in_order(q) for q in by_endpoint.values()))
        finally:  # the endpoints' lease (PostgreSQL) ends with their attempts
            self.store.finish(list(by_endpoint))
        return sum(done)

    async def attempt(self, delivery: Outgoing) -> bool:
        """Send once and record it; whether it was delivered."""
        client = self._client or self._new_client()
        now = self.clock()
        headers = signing.headers(delivery.secrets, delivery.webhook_id, int(now), delivery.body)
        started = time.perf_counter()
        code: int | None = None
        try:
            answer = await client.post(delivery.url, content=delivery.body, headers=headers)
            code = answer.status_code
            error = "" if 200 <= code < 300 else f"HTTP {code}"
        except httpx.TimeoutException:
            error = f"no answer within {self.config.timeout:g} s"
        except httpx.HTTPError as exc:
            error = str(exc) or type(exc).__name__
        took = round((time.perf_counter() - started) * 1000)
        attempt = Attempt(now, code, error, took)
        if code is not None and 200 <= code < 300:
            self.store.record(delivery, attempt, "delivered", None)
            return True
        if code == 410:
            self.store.record(delivery, attempt, "dead", None)
            self.store.disable(delivery.endpoint, "the endpoint answered 410 Gone")
            log.warning("webhook endpoint %s answered 410 Gone: disabled", delivery.endpoint)
            return False
        due = self.config.schedule.next_due(
            delivery.attempts + 1, delivery.first_due, now, self.rand
        )
        self.store.record(delivery, attempt, "pending" if due is not None else "dead", due)
        return False

    def _new_client(self) -> httpx.AsyncClient:
        c = self.config
        self._client = targets.client(c.allow_private, c.timeout, c.concurrency)
        return self._client

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until ``stop`` is set (or cancelled), resting ``poll`` when idle."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                try:
                    busy = await self.pass_once()
                except Exception:  # a failed pass (a locked journal...) is retried
                    log.exception("webhook delivery pass failed")
                    busy = 0
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.config.poll)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
