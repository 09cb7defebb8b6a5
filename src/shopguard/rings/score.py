"""A ring's score, 0..1: how likely its accounts are one hand's abuse (docs/rings.md).

Six kinds of evidence, each 0..1, combined as a noisy-OR, so that each raises the score
and none can lower it, and any one alone stays below its weight:

- size: 1 - exp(-(n - 2) / 10): a pair says little, tens of accounts say a lot;
- growth: the share of members first seen in the window's last 24 h (farms register in
  bursts, households do not), counted only beyond a pair;
- harm: 1 - exp(-(harm events / n / 2 + harm money / n / 500)): claims, redeems,
  orders, payments and draws per member, and the money at stake in them;
- denied: the share of members with at least one denied decision;
- labelled: 1 - exp(-3 x share of members with a confirmed fraud label);
- link types: (kinds of links shared - 1) / 4: a family shares a card and an address,
  a farm shares devices, phone blocks, buildings, networks and user agents.

The weights (below) say how much each kind of evidence alone can say; they are round
numbers chosen by reasoning about honest groups (households, offices, dorms), not fitted
to any generator's traffic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WEIGHTS = {
    "size": 0.35,
    "growth": 0.35,
    "harm": 0.3,
    "denied": 0.6,
    "labelled": 0.9,
    "link_types": 0.3,
}
MONEY_SCALE = 500.0  # money at stake per member that counts like two harm events


@dataclass(frozen=True)
class Evidence:
    size: int
    new_24h: int
    harm_events: int
    harm_money: float
    denied: int  # members with a denied decision
    labelled: int  # members with a confirmed fraud label
    link_kinds: int  # kinds of link values the members share


def parts(e: Evidence) -> dict[str, float]:
    """Each kind of evidence, 0..1."""
    n = max(e.size, 1)
    return {
        "size": 1.0 - math.exp(-max(e.size - 2, 0) / 10.0),
        "growth": e.new_24h / n if e.size > 2 else 0.0,
        "harm": 1.0 - math.exp(-(e.harm_events / n / 2.0 + e.harm_money / n / MONEY_SCALE)),
        "denied": min(e.denied / n, 1.0),
        "labelled": 1.0 - math.exp(-3.0 * min(e.labelled / n, 1.0)),
        "link_types": min(max(e.link_kinds - 1, 0) / 4.0, 1.0),
    }


def ring_score(e: Evidence) -> float:
    clear = 1.0
    for name, value in parts(e).items():
        clear *= 1.0 - WEIGHTS[name] * value
    return round(1.0 - clear, 4)
