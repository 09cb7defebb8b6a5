"""Merchant health: per merchant, what was decided, what was blocked, what was lost.

- ``decided``: events naming the merchant, by outcome;
- ``gross_value``: money charged (successful payments, cabinet sessions' bills);
- ``blocked_value``: money at stake on events denied or challenged;
- ``confirmed_loss``: the loss on loss labels (fraud, chargeback, theft, abuse) of the
  merchant's events (by the event's time) or naming the merchant (by the time known);
- ``loss_rate``: confirmed loss / gross value (missing while nothing was charged).

``MerchantLedger`` computes it in Python from rows and labels: the memory decision log
uses it, and it is the recomputation the SQLite log's SQL is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from shopguard.labels.label import LOSS_KINDS, Label, latest_labels

CHARGED = frozenset({"payment", "cabinet.session"})


def ledger_merchant(event_type: str, facts: dict[str, Any]) -> str | None:
    """The merchant whose volume an event counts in: none for a ``case.label``, which
    reports a case about an event already counted, not business of its own."""
    return None if event_type == "case.label" else facts.get("merchant")


def event_money(event_type: str, facts: dict[str, Any]) -> tuple[float, float]:
    """(money charged, money at stake) of one event, from its facts."""
    amount = float(facts.get("amount") or 0.0)
    gross = amount if event_type in CHARGED and facts.get("success") is not False else 0.0
    if event_type == "cabinet.session":
        return gross, amount + float(facts.get("unbilled_value") or 0.0)
    for name in ("discount", "value"):  # a coupon's or a gift's worth, not the basket
        value = facts.get(name)
        if value:
            return gross, float(value)
    return gross, amount


class MerchantHealth(msgspec.Struct, frozen=True):
    merchant: str
    decided: int
    allowed: int
    reviewed: int
    challenged: int
    denied: int
    gross_value: float
    blocked_value: float
    confirmed_loss: float
    loss_cases: int
    loss_rate: float | None


# One decided event as the ledger needs it.
Row = tuple[str, str, str, float, int, float, float]  # tenant, event_id, merchant, time,
# outcome (0 allow .. 3 deny), gross, stake


@dataclass
class _Tally:
    outcomes: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    gross: float = 0.0
    blocked: float = 0.0
    loss: float = 0.0
    cases: int = 0


class MerchantLedger:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.labels: list[Label] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def label(self, label: Label) -> None:
        self.labels.append(label)

    def drop_entity(self, tenant: str, kind: str, value: str) -> int:
        """Forget the labels naming one entity (an erasure request); returns how many."""
        kept = [
            lb
            for lb in self.labels
            if not (lb.tenant == tenant and lb.entity_kind == kind and lb.entity == value)
        ]
        dropped, self.labels = len(self.labels) - len(kept), kept
        return dropped

    def health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        return merchant_health(self.rows, self.labels, tenant, since, until, known_by)


def merchant_health(
    rows: Iterable[Row],
    labels: Iterable[Label],
    tenant: str,
    since: float,
    until: float,
    known_by: float | None = None,
) -> list[MerchantHealth]:
    tallies: dict[str, _Tally] = {}
    events: dict[str, tuple[str, float]] = {}
    for t, event_id, merchant, time, outcome, gross, stake in rows:
        if t != tenant:
            continue
        events.setdefault(event_id, (merchant, time))
        if not since <= time < until:
            continue
        tally = tallies.setdefault(merchant, _Tally())
        tally.outcomes[outcome] += 1
        tally.gross += gross
        if outcome >= 2:
            tally.blocked += stake
    known = [
        lb for lb in labels if lb.tenant == tenant and (known_by is None or lb.known_at <= known_by)
    ]
    for lb in latest_labels(known):
        if lb.kind not in LOSS_KINDS:
            continue
        owner, when = lb.merchant, lb.known_at
        if lb.event_id is not None and lb.event_id in events:
            logged, when = events[lb.event_id]
            owner = owner if owner is not None else logged
        if owner is None or not since <= when < until:
            continue
        tally = tallies.setdefault(owner, _Tally())
        tally.loss += lb.loss
        tally.cases += 1
    return [_health(m, t) for m, t in sorted(tallies.items())]


def _health(merchant: str, t: _Tally) -> MerchantHealth:
    allowed, reviewed, challenged, denied = t.outcomes
    return MerchantHealth(
        merchant,
        sum(t.outcomes),
        allowed,
        reviewed,
        challenged,
        denied,
        round(t.gross, 2),
        round(t.blocked, 2),
        round(t.loss, 2),
        t.cases,
        round(t.loss / t.gross, 6) if t.gross else None,
    )
