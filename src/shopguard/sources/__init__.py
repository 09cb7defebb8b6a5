"""Event sources for stream ingestion (``shopguard consume``): where raw events come
from, how each is acknowledged once its decision is durable, and where decisions and
alerts go.

- ``protocol``: the ``EventSource`` protocol (batches of ``Message``, ``publish``,
  ``ack`` / ``nak`` / ``reject``, ``close``) and the registry, ``make_source(name)``.
- ``nats``: a NATS JetStream durable pull consumer (nats-py); decisions and alerts
  published per tenant with ``Nats-Msg-Id`` for JetStream's dedupe.
- ``files``: JSON lines (or CSV / Parquet through a mapping), read as ``shopguard
  replay`` reads them; decisions written as JSON lines.
- ``ingest``: one batch through ``Engine.decide_many`` (a malformed event rejected
  alone, never blocking the rest), and the decisions and alerts it publishes.

A Kafka consumer follows the same protocol: see ``protocol``'s docstring.
"""

from shopguard.sources.protocol import (
    EventSource,
    Message,
    Output,
    SourceUnavailable,
    make_source,
)

__all__ = ["EventSource", "Message", "Output", "SourceUnavailable", "make_source"]
