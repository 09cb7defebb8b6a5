"""What changes between the champion and a candidate, folded one decision at a time.

Open loop (``add``): each decision was made by the champion with the candidate beside it
as the challenger (the live shadow path: same features, same model score, the
candidate's policy outcome, none of its effects). Closed loop (``add_pair``): two engines
decided the event, each with its own effects. From it: the two outcomes, the two sets of rules that
fired, and, when the event carries a label, whether it was fraud. An event decided by a
list entry is decided the same way by both (lists come before rules).

*Caught* is denied or challenged, as in evaluation (a review comes after the harm);
*flagged* counts a review too; *friction* is the share of honest (unlabelled or labelled
legit) events that were not simply allowed, split by outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shopguard.decision import Decision, Reason

OUTCOMES = ("allow", "review", "challenge", "deny")
CAUGHT = frozenset({"challenge", "deny"})
SAMPLE = 50  # changed events kept with their reasons


def _outcome(name: str | None) -> str:
    """``challenge:sms`` (a simulated outcome names its challenge) -> ``challenge``."""
    return (name or "allow").partition(":")[0]


@dataclass
class Side:
    """One ruleset's counts over the labelled events."""

    positives: int = 0
    caught: int = 0
    flagged: int = 0  # fraud events not simply allowed (a review included)
    honest: Counter[str] = field(default_factory=Counter)  # outcome -> honest events

    def add(self, outcome: str, fraud: bool) -> None:
        if fraud:
            self.positives += 1
            self.caught += outcome in CAUGHT
            self.flagged += outcome != "allow"
        else:
            self.honest[outcome] += 1

    def summary(self) -> dict[str, Any]:
        honest = sum(self.honest.values())
        share = {o: self.honest[o] / honest if honest else 0.0 for o in OUTCOMES[1:]}
        return {
            "recall": self.caught / self.positives if self.positives else None,
            "caught": self.caught,
            "fraud_flagged": self.flagged / self.positives if self.positives else None,
            "positives": self.positives,
            "honest_events": honest,
            "honest_friction": sum(share.values()),
            "honest_share": share,
        }


@dataclass
class Changed:
    event_id: str
    type: str
    time: float
    champion: str
    candidate: str
    champion_reasons: list[str]
    candidate_reasons: list[str]
    label: str | None


def _said(reasons: list[Reason]) -> list[str]:
    return [f"{r.code}: {r.reason}" for r in reasons]


@dataclass
class Comparison:
    champion: str  # the rulesets' version names
    candidate: str
    events: int = 0
    labelled: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    champion_hits: Counter[str] = field(default_factory=Counter)  # rule id -> events
    candidate_hits: Counter[str] = field(default_factory=Counter)
    added: Counter[str] = field(default_factory=Counter)  # on changed events, candidate only
    removed: Counter[str] = field(default_factory=Counter)  # on changed events, champion only
    samples: list[Changed] = field(default_factory=list)
    sides: tuple[Side, Side] = field(default_factory=lambda: (Side(), Side()))

    loop: str = "open"

    def add(self, decision: Decision, label: bool | None = None) -> None:
        """One decision made with the candidate as challenger; ``label``: fraud or not,
        None when the event carries no label."""
        ours = _outcome(decision.simulated_outcome or decision.outcome)
        listed = any(r.rule.startswith("list:") for r in decision.reasons)
        mine = [r for r in decision.reasons if not r.rule.startswith("list:")]
        suffix = f"@{self.candidate}"
        theirs = [r for r in decision.shadow if r.rule.endswith(suffix)]
        if listed or decision.challenger_outcome is None:
            other = ours  # a list entry decided: the candidate's rules never ran
        else:
            other = _outcome(decision.challenger_outcome)
        names = {r.rule[: -len(suffix)] for r in theirs}
        self._count(decision, label, (ours, mine, {r.rule for r in mine}), (other, theirs, names))

    def add_pair(self, champion: Decision, candidate: Decision, label: bool | None) -> None:
        """Closed loop: one event decided by two engines, each with its own effects (a
        list entry the candidate added decides its later events: ``list:deny`` then
        explains the change)."""
        ours = _outcome(champion.simulated_outcome or champion.outcome)
        other = _outcome(candidate.simulated_outcome or candidate.outcome)
        mine, theirs = champion.reasons, candidate.reasons
        self._count(
            champion,
            label,
            (ours, mine, {r.rule for r in mine}),
            (other, theirs, {r.rule for r in theirs}),
        )

    def _count(
        self,
        decision: Decision,
        label: bool | None,
        champion: tuple[str, list[Reason], set[str]],
        candidate: tuple[str, list[Reason], set[str]],
    ) -> None:
        (ours, mine, champion_rules), (other, theirs, candidate_rules) = champion, candidate
        self.events += 1
        self.transitions[ours, other] += 1
        self.champion_hits.update(champion_rules)
        self.candidate_hits.update(candidate_rules)
        if ours != other:
            self.added.update(candidate_rules - champion_rules)
            self.removed.update(champion_rules - candidate_rules)
            if len(self.samples) < SAMPLE:
                self.samples.append(
                    Changed(
                        decision.event_id,
                        decision.type,
                        decision.time,
                        ours,
                        other,
                        _said(mine),
                        _said(theirs),
                        None if label is None else ("fraud" if label else "legit"),
                    )
                )
        if label is not None:
            self.labelled += 1
            self.sides[0].add(ours, label)
            self.sides[1].add(other, label)

    @property
    def changed(self) -> int:
        return sum(n for (a, b), n in self.transitions.items() if a != b)

    def rules(self) -> list[dict[str, Any]]:
        """Per rule: events it fired on under each, and changed events it explains."""
        names = {*self.champion_hits, *self.candidate_hits}
        rows: list[dict[str, Any]] = [
            {
                "rule": name,
                "champion_hits": self.champion_hits[name],
                "candidate_hits": self.candidate_hits[name],
                "hits_delta": self.candidate_hits[name] - self.champion_hits[name],
                "changes_added": self.added[name],
                "changes_removed": self.removed[name],
            }
            for name in names
        ]
        rows = [r for r in rows if r["hits_delta"] or r["changes_added"] or r["changes_removed"]]
        rows.sort(key=lambda r: (-(r["changes_added"] + r["changes_removed"]), r["rule"]))
        return rows

    def report(self) -> dict[str, Any]:
        """Everything, JSON-ready (``--out x.json``)."""
        champion, candidate = (s.summary() for s in self.sides)
        labels = None
        if self.labelled:
            delta = {
                k: (candidate[k] - champion[k])
                if candidate[k] is not None and champion[k] is not None
                else None
                for k in ("recall", "fraud_flagged", "honest_friction")
            }
            labels = {"champion": champion, "candidate": candidate, "delta": delta}
        return {
            "champion": self.champion,
            "candidate": self.candidate,
            "loop": self.loop,
            "events": self.events,
            "changed": self.changed,
            "transitions": [
                {"champion": a, "candidate": b, "events": n}
                for (a, b), n in sorted(self.transitions.items())
                if a != b
            ],
            "unchanged": {a: n for (a, b), n in sorted(self.transitions.items()) if a == b},
            "rules": self.rules(),
            "labels": labels,
            "samples": [vars(s) for s in self.samples],
        }
