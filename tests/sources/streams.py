"""What the NATS tests share: unique stream names on the machine's server, publishing
events, reading a stream's per-subject counts, and the journal's count per event id."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import nats
import nats.js.errors

MACHINE_NATS = "nats://127.0.0.1:4222"


class Names:
    """A stream, its subjects and durable, and the decisions / alerts prefixes, unique to
    one test (engineers and CI jobs share the machine's server)."""

    def __init__(self) -> None:
        tag = f"nats{secrets.token_hex(4)}"
        self.stream = f"SGTEST_{tag}"
        self.events = f"{tag}.events"
        self.durable = f"{tag}_consumer"
        self.decisions = f"{tag}.decisions"
        self.alerts = f"{tag}.alerts"

    def options(self, url: str = MACHINE_NATS) -> dict[str, Any]:
        """NatsSource's keyword arguments."""
        return {
            "url": url,
            "stream": self.stream,
            "subjects": [f"{self.events}.>"],
            "durable": self.durable,
            "decisions": self.decisions,
            "alerts": self.alerts,
        }

    def settings(self, url: str = MACHINE_NATS) -> str:
        """These names as settings YAML lines."""
        return (
            f"nats_url: {url}\nnats_stream: {self.stream}\nnats_subjects: ['{self.events}.>']\n"
            f"nats_durable: {self.durable}\nnats_decisions: {self.decisions}\n"
            f"nats_alerts: {self.alerts}\n"
        )


async def _publish(url: str, subject: str, events: Iterable[bytes | dict[str, Any]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for event in events:
        data = event if isinstance(event, bytes) else msgspec.json.encode(event)
        await js.publish(subject, data)  # acknowledged by the stream: stored
    await nc.close()


def publish(url: str, subject: str, events: Iterable[bytes | dict[str, Any]]) -> None:
    asyncio.run(_publish(url, subject, events))


async def _add_stream(url: str, name: str, subjects: list[str]) -> None:
    nc = await nats.connect(url)
    await nc.jetstream().add_stream(name=name, subjects=subjects)
    await nc.close()


def add_stream(url: str, name: str, subjects: list[str]) -> None:
    asyncio.run(_add_stream(url, name, subjects))


async def _subject_counts(url: str, stream: str) -> dict[str, int]:
    nc = await nats.connect(url)
    info = await nc.jetstream().stream_info(stream, subjects_filter=">")
    await nc.close()
    return dict(info.state.subjects or {})


def subject_counts(url: str, stream: str) -> dict[str, int]:
    """Messages a stream holds per subject."""
    return asyncio.run(_subject_counts(url, stream))


async def _messages(url: str, stream: str, subject: str) -> list[bytes]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    info = await js.stream_info(stream)
    bodies = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        if msg.subject == subject or not subject:
            bodies.append(msg.data or b"")
    await nc.close()
    return bodies


def messages(url: str, stream: str, subject: str = "") -> list[bytes]:
    """The bodies a stream holds (on ``subject``, or all), in order."""
    return asyncio.run(_messages(url, stream, subject))


async def _drop(url: str, streams: list[str]) -> None:
    nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0)
    for name in streams:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(name)
    await nc.close()


def drop_streams(url: str, *streams: str) -> None:
    """Delete the test's streams (cleaning up the shared server)."""
    asyncio.run(_drop(url, list(streams)))


def journal_counts(data_dir: Path) -> dict[str, int]:
    """Decisions journaled per event id (one each, exactly once)."""
    with sqlite3.connect(data_dir / "decisions.db") as db:
        rows = db.execute("SELECT event_id, count(*) FROM decisions GROUP BY event_id")
        return dict(rows.fetchall())
