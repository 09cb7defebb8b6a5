"""The ``files`` source: events from JSON-lines files (``.gz`` too), or CSV / Parquet
through a column mapping, read exactly as ``shopguard replay`` reads them
(``shopguard.replay.iter_events``). Decisions (and alerts) are written as JSON lines.

A file has no broker to acknowledge to: ``ack`` counts, ``nak`` puts the messages back
in front of the rest (fetched again after ``delay``), ``reject`` counts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import IO, Any

import msgspec

from shopguard.sources.protocol import SOURCES, Message, Output


class FileSource:
    name = "files"

    def __init__(
        self,
        paths: Sequence[str | Path],
        mapping: str | None = None,
        out: IO[bytes] | None = None,
        alerts_out: IO[bytes] | None = None,
    ) -> None:
        from shopguard.replay import iter_events, load_mapping

        spec = load_mapping(mapping) if mapping else None
        numbered = (self._numbered(Path(p), iter_events(p, spec)) for p in paths)
        self._events: Iterator[Message] = chain.from_iterable(numbered)
        self._again: deque[Message] = deque()
        self._not_before = 0.0
        self._ended = False
        self._out = {"decisions": out, "alerts": alerts_out}
        self.acked = self.rejected = 0

    @staticmethod
    def _numbered(path: Path, events: Iterator[tuple[Any, dict[str, str]]]) -> Iterator[Message]:
        for number, (event, _) in enumerate(events, 1):
            data = event if isinstance(event, bytes) else msgspec.json.encode(event)
            yield Message(data, (path, number), f"{path} event {number}")

    def fetch(self, limit: int, wait: float) -> list[Message]:
        batch: list[Message] = []
        if self._again:
            pause = self._not_before - time.monotonic()
            if pause > wait:
                time.sleep(wait)
                return batch
            time.sleep(max(pause, 0.0))
            while self._again and len(batch) < limit:
                batch.append(self._again.popleft())
        for message in self._events:
            batch.append(message)
            if len(batch) >= limit:
                return batch
        self._ended = True
        return batch

    @property
    def exhausted(self) -> bool:
        return self._ended and not self._again

    def publish(self, outputs: Sequence[Output]) -> None:
        for output in outputs:
            sink = self._out[output.kind]
            if sink is not None:
                sink.write(output.body + b"\n")
        for sink in self._out.values():
            if sink is not None:
                sink.flush()

    def ack(self, messages: Sequence[Message]) -> None:
        self.acked += len(messages)

    def nak(self, messages: Sequence[Message], delay: float) -> None:
        again = [msgspec.structs.replace(m, redelivered=True) for m in messages]
        self._again.extendleft(reversed(again))
        self._not_before = time.monotonic() + delay

    def reject(self, message: Message, reason: str) -> None:
        self.rejected += 1

    def close(self) -> None:
        self._events = iter(())


SOURCES["files"] = FileSource
