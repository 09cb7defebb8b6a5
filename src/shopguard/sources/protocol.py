"""The event-source protocol and its registry.

A source hands out batches of raw event ``Message``s, each with an opaque ``handle`` the
source acknowledges it by, and takes back, for each batch, what to publish (decisions and
alerts) and which messages to acknowledge. The caller's order for one batch is:

1. ``fetch`` a batch; decide it with one durable commit (``shopguard.sources.ingest``);
2. ``publish`` its decisions and alerts (at least once: each carries a ``msg_id``, the
   tenant and event id, so a redelivered event's republication is recognised);
3. ``ack`` the messages whose decisions are durable, ``reject`` the malformed ones (never
   redelivered; logged), or ``nak`` the whole batch when the journal could not take it
   (redelivered after ``delay``).

A crash anywhere before ``ack`` redelivers the batch; the engine's dedupe answers an
event it already journaled from the journal, so nothing is counted twice.

Kafka fits the same shape: ``handle`` is (topic, partition, offset); ``ack`` commits, per
partition, the highest acknowledged offset + 1 (offsets are committed in order, so a
batch is acknowledged as a whole); ``nak`` seeks each partition back to the batch's
lowest offset in it; ``reject`` produces the message to a dead-letter topic and then
counts it as acknowledged; ``publish`` is an idempotent producer keyed by ``msg_id``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

import msgspec

from shopguard.errors import ShopGuardError


class SourceUnavailable(ShopGuardError):
    """A source could not be reached (at start), or did not take a publish or an ack:
    its messages are delivered again and answered from the journal."""


class Message(msgspec.Struct):
    """One raw event as the source delivered it. ``handle``: what the source acknowledges
    it by (a NATS message, a file line, a Kafka (topic, partition, offset)); ``where``:
    that position in words, for log lines (``stream seq 42``, ``events.jsonl:17``)."""

    data: bytes
    handle: Any
    where: str
    redelivered: bool = False


class Output(msgspec.Struct):
    """Something a batch publishes: a decision or an alert of ``tenant``. ``msg_id``
    (tenant and event id) is the same every time the event is decided or answered
    again, so a consumer of the output can drop repeats."""

    kind: Literal["decisions", "alerts"]
    tenant: str
    msg_id: str
    body: bytes


class EventSource(Protocol):
    name: str

    def fetch(self, limit: int, wait: float) -> list[Message]:
        """Up to ``limit`` messages, waiting at most ``wait`` seconds for the first; an
        empty list when none came (or the source is briefly unreachable: it reconnects
        on its own)."""

    @property
    def exhausted(self) -> bool:
        """No message will ever come again (the end of a file; a stream never ends)."""

    def publish(self, outputs: Sequence[Output]) -> None:
        """Send decisions and alerts; returns once the transport has them (before ack)."""

    def ack(self, messages: Sequence[Message]) -> None:
        """The messages' decisions are durable: never deliver them again."""

    def nak(self, messages: Sequence[Message], delay: float) -> None:
        """Deliver these messages again after ``delay`` seconds (nothing was kept)."""

    def reject(self, message: Message, reason: str) -> None:
        """A message that can never be decided (malformed): drop it for good."""

    def close(self) -> None: ...


SOURCES: dict[str, Callable[..., EventSource]] = {}
_MODULES = {"nats": "shopguard.sources.nats", "files": "shopguard.sources.files"}


def make_source(name: str, **options: Any) -> EventSource:
    """The source registered as ``name``; only the chosen one imports its client."""
    from shopguard.errors import ConfigError

    if name in _MODULES:
        importlib.import_module(_MODULES[name])  # registers itself
    if name not in SOURCES:
        raise ConfigError(f"unknown event source {name!r}; registered: {sorted(SOURCES)}")
    return SOURCES[name](**options)
