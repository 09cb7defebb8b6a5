"""Labels arriving late, for replays: each labelled event of a source is followed, a
delay later, by the ``case.label`` event a fraud team would have sent then (naming the
event's account, card, terminal...). Merged in time order, so label features see a case
exactly from the day it became known, as in production."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from shopguard.events.decode import parse_instant
from shopguard.replay.sources import Labelled

CARRIED = ("account", "card", "device", "terminal", "merchant", "phone", "ip", "email")


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return parse_instant(str(value))


def with_delayed_labels(
    pairs: Iterable[Labelled], label: str, delay: float, types: set[str] | None = None
) -> Iterator[Labelled]:
    """The source's (event, tags) pairs with a ``case.label`` event ``delay`` seconds
    after every event of ``types`` (None: any) whose ``label`` tag is 1 (tags of the label
    events: label 0). Only the labelled types: a row's sign-up shares its purchase's
    label, but nobody could know of a fraud before the purchase that committed it."""
    due: list[tuple[float, int, dict[str, Any]]] = []
    made = 0
    quiet = {label: "0"}
    for event, tags in pairs:
        doc = msgspec.json.decode(event) if isinstance(event, bytes | str) else event
        when = _epoch(doc["time"])
        while due and due[0][0] <= when:
            yield heapq.heappop(due)[2], quiet
        yield event, tags
        if float(tags.get(label, 0) or 0) >= 1 and (types is None or doc["type"] in types):
            made += 1
            known = when + delay
            case = {
                "type": "case.label",
                "event_id": f"label-{doc['event_id']}",
                "tenant": doc["tenant"],
                "time": datetime.fromtimestamp(known, UTC),
                "verdict": "fraud",
                "labelled_event": doc["event_id"],
                **{k: doc[k] for k in CARRIED if doc.get(k) is not None},
            }
            heapq.heappush(due, (known, made, case))
    while due:
        yield heapq.heappop(due)[2], quiet
