"""The ``nats`` source: a NATS JetStream durable pull consumer (nats-py).

The client's asyncio loop runs in a thread of its own, so it keeps answering the
server's pings and reconnects while the engine decides a batch in the caller's thread;
each call here waits for its coroutine on that loop.

- The stream (``stream``, capturing ``subjects``) is created if absent, the durable
  consumer (explicit acks, ``ack_wait``) too; an existing one is used as it is (change
  it with the ``nats`` CLI). Several ``shopguard consume`` processes on one durable share
  its messages.
- A decision goes to ``<decisions>.<tenant>``, an alert to ``<alerts>.<tenant>``, as
  plain NATS publishes with header ``Nats-Msg-Id`` (``tenant:event_id``, alerts
  ``tenant:event_id:alert``): a JetStream stream capturing those subjects stores each
  once, however often a redelivered event is answered again (within its
  ``duplicate_window``).
- The acks follow the publishes on the same connection, then one flush (a round trip)
  per batch: the server has handled the publishes before it sees the acks.
- While the server is unreachable, ``fetch`` answers empty and the client reconnects
  for ever; acks lost with the connection are redelivered after ``ack_wait`` and
  answered from the journal (the engine's dedupe), never counted twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shopguard.sources.protocol import SOURCES, Message, Output, SourceUnavailable

log = logging.getLogger("shopguard.consume")
T = TypeVar("T")
_NOT_A_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")  # '.', '*', '>' and spaces split subjects


def tenant_token(tenant: str) -> str:
    """The tenant as one subject token (other characters become ``_``)."""
    return _NOT_A_TOKEN.sub("_", tenant)


class NatsSource:
    name = "nats"

    def __init__(
        self,
        url: str,
        stream: str,
        subjects: Sequence[str],
        durable: str,
        decisions: str,
        alerts: str,
        ack_wait: float = 30.0,
        connect_timeout: float = 2.0,
        batch: int = 256,
    ) -> None:
        self.url, self.stream, self.durable = url, stream, durable
        self.subjects, self.decisions, self.alerts = list(subjects), decisions, alerts
        self.ack_wait, self.batch = ack_wait, batch
        self.connected, self._closing = False, False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats", daemon=True)
        self._thread.start()
        try:
            self._call(self._open(connect_timeout), connect_timeout * 3 + 10)
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self, connect_timeout: float) -> None:
        async def disconnected() -> None:
            if self.connected and not self._closing:
                log.warning("NATS %s: disconnected, reconnecting", self.url)
            self.connected = False

        async def reconnected() -> None:
            self.connected = True
            log.warning("NATS %s: reconnected", self.url)

        async def error(exc: Exception) -> None:
            log.debug("NATS %s: %s", self.url, exc)

        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=connect_timeout,
                max_reconnect_attempts=1,  # at start: unreachable is an error
                reconnect_time_wait=0.25,
                allow_reconnect=True,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
                name="shopguard consume",
            )
        except (OSError, nats.errors.Error) as exc:
            raise SourceUnavailable(f"NATS at {self.url} is unreachable: {exc}") from None
        # From now on a stream consumer waits for its server, however long it is away
        # (nats-py reads this option at each reconnect; -1 at connect would never fail).
        self._nc.options["max_reconnect_attempts"] = -1
        self.connected = True
        js = self._nc.jetstream()
        try:
            await self._ensure(js)
            self._sub = await js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        except nats.errors.Error as exc:
            await self._nc.close()
            raise SourceUnavailable(f"NATS stream {self.stream}: {exc}") from None

    async def _ensure(self, js: Any) -> None:
        """The stream and the durable consumer, created when absent."""
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(name=self.stream, subjects=self.subjects)
            log.info("created stream %s on %s", self.stream, ", ".join(self.subjects))
        try:
            info = await js.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            config = ConsumerConfig(
                durable_name=self.durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.ack_wait,
                # room for a few processes' batches in flight (the server's default,
                # 1000, would hold a batch of 1024 back until its fetch times out)
                max_ack_pending=max(1000, 4 * self.batch),
            )
            info = await js.add_consumer(self.stream, config)
        pending = info.config.max_ack_pending
        if pending is not None and 0 < pending < self.batch:
            log.warning(
                "consumer %s allows %d messages unacknowledged, fewer than a batch (%d): "
                "each fetch waits for its time-out",
                self.durable,
                pending,
                self.batch,
            )

    # -- the protocol ------------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        return False  # a stream never ends

    def fetch(self, limit: int, wait: float) -> list[Message]:
        try:
            return self._call(self._fetch(limit, wait), wait + 10)
        except TimeoutError:  # the loop itself did not answer in time
            return []

    async def _fetch(self, limit: int, wait: float) -> list[Message]:
        if not self.connected:
            await asyncio.sleep(wait)  # reconnecting: the pull request would be lost
            return []
        try:
            got = await self._sub.fetch(limit, timeout=wait)
        except nats.errors.TimeoutError:
            return []
        except nats.errors.Error as exc:
            log.debug("fetch: %s", exc)
            await asyncio.sleep(min(wait, 0.25))
            return []
        messages = []
        for msg in got:
            meta = msg.metadata
            where = f"{self.stream} seq {meta.sequence.stream}"
            messages.append(Message(msg.data, msg, where, meta.num_delivered > 1))
        return messages

    def publish(self, outputs: Sequence[Output]) -> None:
        self._call(self._publish(outputs), 30)

    async def _publish(self, outputs: Sequence[Output]) -> None:
        prefix = {"decisions": self.decisions, "alerts": self.alerts}
        try:
            for o in outputs:
                subject = f"{prefix[o.kind]}.{tenant_token(o.tenant)}"
                await self._nc.publish(subject, o.body, headers={"Nats-Msg-Id": o.msg_id})
        except nats.errors.Error as exc:  # the buffer is full while reconnecting
            raise SourceUnavailable(f"NATS publish failed: {exc}") from None

    def ack(self, messages: Sequence[Message]) -> None:
        self._call(self._settle(messages, "ack"), 30)

    def nak(self, messages: Sequence[Message], delay: float) -> None:
        self._call(self._settle(messages, "nak", delay), 30)

    def reject(self, message: Message, reason: str) -> None:
        self._call(self._settle([message], "term"), 30)

    async def _settle(self, messages: Sequence[Message], how: str, delay: float = 0) -> None:
        try:
            for m in messages:
                if how == "ack":
                    await m.handle.ack()
                elif how == "nak":
                    await m.handle.nak(delay=delay)
                else:
                    await m.handle.term()
            await self._nc.flush(timeout=10)
        except (TimeoutError, nats.errors.Error) as exc:
            raise SourceUnavailable(f"NATS {how} not confirmed: {exc}") from None

    def close(self) -> None:
        self._closing = True
        try:
            self._call(self._close(), 15)
        except (TimeoutError, nats.errors.Error):
            pass
        finally:
            self._stop_loop()

    async def _close(self) -> None:
        if self._nc.is_closed:
            return
        if self.connected:  # the last acks out before the connection goes
            await self._nc.flush(timeout=5)
        await self._nc.close()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


SOURCES["nats"] = NatsSource
