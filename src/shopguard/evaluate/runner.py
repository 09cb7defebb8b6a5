"""Labelled traffic through an engine into a scoreboard, with losses labelled as they
would be confirmed (a chargeback or an audit, a week after the harm let through)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

import msgspec

from shopguard.evaluate.metrics import Scoreboard
from shopguard.labels import MerchantHealth

if TYPE_CHECKING:
    from shopguard.engine import Engine

LABEL_DELAY_S = 7 * 86400  # chargebacks and audits confirm a loss about a week later
Labelled = tuple[bytes, str, float]  # event, attack ("" honest), stake


def _chunks(items: Iterator[Labelled], size: int) -> Iterator[list[Labelled]]:
    while chunk := list(islice(items, size)):
        yield chunk


def score(
    engine: Engine,
    labelled: Iterable[Labelled],
    advance: Callable[[int], object] | None = None,
) -> tuple[Scoreboard, list[MerchantHealth]]:
    """Decide every event, count it, label each harm let through as a confirmed loss, and
    read merchant health back at the end."""
    board = Scoreboard()
    tenants: set[str] = set()
    for chunk in _chunks(iter(labelled), 1024):
        decisions = engine.decide_many([raw for raw, _, _ in chunk])
        for decision, (raw, attack, stake) in zip(decisions, chunk, strict=True):
            event = msgspec.json.decode(raw)
            lost = board.add(event, decision.outcome, attack, decision.time, stake)
            if lost:
                tenants.add(event["tenant"])
                case = {"tenant": event["tenant"], "event_id": event["event_id"]}
                known_at = decision.time + LABEL_DELAY_S
                engine.label({**case, "kind": "fraud", "loss": lost, "known_at": known_at})
        if advance is not None:
            advance(len(chunk))
    merchants = [h for tenant in sorted(tenants) for h in engine.merchant_health(tenant)]
    return board, merchants
