"""One batch of messages through the engine: ``Engine.decide_many`` (one durable commit),
a malformed event rejected alone, and the decisions and alerts the batch publishes.

A malformed event (bad JSON, a missing field, a time out of bounds) fails
``decide_many`` before anything is applied, its index first in the error's path: that one
message is set aside and the rest decided again, so k bad messages cost k + 1 tries of a
batch, never a blocked stream. ``StorageUnavailable`` (the journal could not commit) and
``StateUnavailable`` (fail closed) reach the caller, which naks the batch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from shopguard.decision import Decision, decision_encoder
from shopguard.effects.apply import _alert_payload
from shopguard.errors import InvalidEvent, StateUnavailable, StorageUnavailable
from shopguard.outcome import Action
from shopguard.sources.protocol import EventSource, Message, Output, SourceUnavailable

if TYPE_CHECKING:
    from shopguard.engine import Engine

log = logging.getLogger("shopguard.consume")


class Ingested(msgspec.Struct):
    """A batch's result: each decided message with its decision (durable), each rejected
    one with why, and what to publish."""

    decided: list[tuple[Message, Decision]]
    rejected: list[tuple[Message, str]]
    outputs: list[Output]


def _bad_index(exc: InvalidEvent, size: int) -> int | None:
    """The index ``decide_many`` put first in the error's path: ``$[3].phone``."""
    path = exc.path
    if not path.startswith("$["):
        return None
    try:
        index = int(path[2 : path.index("]")])
    except ValueError:
        return None
    return index if 0 <= index < size else None


def _why(exc: InvalidEvent, path: str) -> str:
    """One line: the error, with the field's path unless the message names it."""
    text = str(exc).splitlines()[0] if str(exc) else "invalid event"
    return text if f"`{path}`" in text else f"{path}: {text}"


def decide_batch(engine: Engine, messages: Sequence[Message]) -> Ingested:
    """Decide ``messages`` in order with one durable commit; returns once it is durable."""
    pending = list(messages)
    rejected: list[tuple[Message, str]] = []
    while True:
        try:
            decisions = engine.decide_many([m.data for m in pending]) if pending else []
            break
        except InvalidEvent as exc:
            index = _bad_index(exc, len(pending))
            if index is None:  # unexpected shape: judge them one by one instead
                return _one_by_one(engine, pending, rejected)
            bad = pending.pop(index)
            rejected.append((bad, _why(exc, "$" + exc.path[len(f"$[{index}]") :])))
    decided = list(zip(pending, decisions, strict=True))
    return Ingested(decided, rejected, outputs_of(engine, decisions))


def _one_by_one(
    engine: Engine, pending: list[Message], rejected: list[tuple[Message, str]]
) -> Ingested:
    decided = []
    for message in pending:
        try:
            decided.append((message, engine.decide(message.data)))
        except InvalidEvent as exc:
            rejected.append((message, _why(exc, exc.path)))
    return Ingested(decided, rejected, outputs_of(engine, [d for _, d in decided]))


def outputs_of(engine: Engine, decisions: Sequence[Decision]) -> list[Output]:
    """Each decision, and an alert for each whose outcome reached the policy's floor
    (``alert_at``; in simulation mode the outcome it would have had), built as the
    webhooks' outbox row is, from the journaled facts (pseudonyms only)."""
    outputs = []
    policy = engine.policy
    for decision in decisions:
        tenant, event_id = decision.tenant, decision.event_id
        msg_id = f"{tenant}:{event_id}"
        outputs.append(Output("decisions", tenant, msg_id, decision_encoder.encode(decision)))
        verdict = Action.parse(decision.simulated_outcome or decision.outcome).outcome
        if policy.alerts(verdict):
            facts = engine.log.facts_of(tenant, event_id) or {}
            body = _alert_payload(facts, decision, True)
            outputs.append(Output("alerts", tenant, f"{msg_id}:alert", body))
    return outputs


def consume_batch(
    engine: Engine, source: EventSource, messages: Sequence[Message], counts: dict[str, int]
) -> None:
    """Decide one fetched batch, publish what it produced, settle its messages, and add
    to ``counts``: decided (new in the journal), again (answered from the journal: a
    redelivery), rejected. What cannot be settled now (the server is away) is delivered
    again later and answered from the journal."""
    before = engine.log.last_seq()
    try:
        result = decide_batch(engine, messages)
    except (StorageUnavailable, StateUnavailable) as exc:
        log.warning("%s: %d messages come again in %.1fs", exc, len(messages), exc.retry_after)
        with contextlib.suppress(SourceUnavailable):
            source.nak(messages, exc.retry_after)
        time.sleep(exc.retry_after)  # a journal that is down is not asked again at once
        return
    for message, reason in result.rejected:
        log.warning("rejected %s: %s", message.where, reason)
    try:
        source.publish(result.outputs)
        for message, reason in result.rejected:
            source.reject(message, reason)
        source.ack([m for m, _ in result.decided])
    except SourceUnavailable as exc:
        log.warning("%s: %d decisions are durable; their events come again", exc, len(messages))
    new = engine.log.last_seq() - before
    counts["decided"] += new
    counts["again"] += len(result.decided) - new
    counts["rejected"] += len(result.rejected)
