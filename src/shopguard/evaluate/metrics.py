"""The scoreboard: counts folded from (decision, truth) pairs, one pass, no storage.

An attack event is *caught* when it is denied or challenged (a bot does not pass a
challenge; a review comes after the harm). Recall is measured only on the attack's
harm events (the gift claimed, the code sent, the card charged), not on the steps
before or after it. Money saved is the value at stake on caught harm events.

Per account: a ring account is *stopped before its second harm* when at most one of its
harm events got through (a ring is stopped by stopping its accounts early, not by
catching most events of a few); an honest account *ever denied* had at least one of its
events denied (one bad day per shopper is what the shopper remembers).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from shopguard.labels import event_money
from shopguard.simulate.attacks import ATTACKS

CAUGHT = frozenset({"challenge", "deny"})
OUTCOMES = ("allow", "review", "challenge", "deny")
SMS_COST = 0.05  # what one verification code costs the retailer


def value_at_stake(event: dict[str, Any], stake: float = 0.0) -> float:
    """What the attacker takes if the event goes through: the truth's own figure where the
    event does not show it (unbilled goods), else the money the event names."""
    if stake:
        return stake
    if event["type"] == "sms.send":
        return SMS_COST
    return event_money(event["type"], event)[1]  # the same money merchant health counts


@dataclass
class AttackScore:
    harm_events: int = 0
    caught: int = 0
    at_stake: float = 0.0
    saved: float = 0.0
    events: int = 0
    let_through: Counter[str] = field(default_factory=Counter)  # account -> harm passed

    @property
    def recall(self) -> float:
        return self.caught / self.harm_events if self.harm_events else 0.0

    @property
    def accounts(self) -> int:
        """Accounts that reached the point of harm at least once."""
        return len(self.let_through)

    @property
    def stopped_early(self) -> float | None:
        """Share of those stopped before their second harm event (None: no accounts,
        as for attacks that act without one)."""
        if not self.let_through:
            return None
        return sum(n <= 1 for n in self.let_through.values()) / len(self.let_through)


@dataclass
class Scoreboard:
    bucket_s: float = 3600.0
    attacks: dict[str, AttackScore] = field(default_factory=lambda: defaultdict(AttackScore))
    honest: Counter[str] = field(default_factory=Counter)
    timeline: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    honest_by_type: Counter[tuple[str, str]] = field(default_factory=Counter)  # type, outcome
    honest_accounts: set[str] = field(default_factory=set)
    honest_denied: set[str] = field(default_factory=set)

    def add(
        self, event: dict[str, Any], outcome: str, attack: str, time: float, stake: float = 0.0
    ) -> float:
        """Count one decided event; returns the money lost if it is a harm event let
        through (what a later label would confirm), else 0."""
        self.timeline[int(time // self.bucket_s)][
            outcome if not attack else "attack:" + outcome
        ] += 1
        account = event.get("account")
        if not attack:
            self.honest[outcome] += 1
            self.honest_by_type[event["type"], outcome] += 1
            if account is not None:
                self.honest_accounts.add(account)
                if outcome == "deny":
                    self.honest_denied.add(account)
            return 0.0
        score = self.attacks[attack]
        score.events += 1
        harm = ATTACKS[attack].harm if attack in ATTACKS else frozenset({event["type"]})
        if event["type"] not in harm:
            return 0.0
        stake = value_at_stake(event, stake)
        score.harm_events += 1
        score.at_stake += stake
        caught = outcome in CAUGHT
        if account is not None:
            score.let_through[account] += not caught
        if caught:
            score.caught += 1
            score.saved += stake
            return 0.0
        return stake

    def friction(self) -> dict[str, float]:
        total = sum(self.honest.values()) or 1
        return {outcome: self.honest[outcome] / total for outcome in OUTCOMES}

    def honest_accounts_denied(self) -> float:
        """Share of honest accounts with at least one event denied."""
        return len(self.honest_denied) / (len(self.honest_accounts) or 1)
