"""Finding decisions again: by time, outcome, rule and entity pseudonym.

Each journaled decision is indexed under a few *terms*: ``rule:<id>`` for every rule or
list that weighed in, ``shadow:<id>`` for shadow hits, and ``<kind>:<pseudonym>`` for the
identities in its facts (the ones an analyst or an erasure request looks up). A search
walks one term's postings (or the time index) newest first; ``before`` pages on.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from shopguard.decision import Decision

# The identities worth looking up (and erasing by); ip24, user agent, referrer and the
# link signals (phone block, building, e-mail pattern, device model, ip16) are shared by
# crowds: indexing them would give every decision more terms than it has identities.
INDEXED_KINDS = ("account", "device", "ip", "phone", "email", "card", "address", "id_number")
OutcomeName = Literal["allow", "review", "challenge", "deny"]


class DecisionQuery(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    since: float = float("-inf")  # event time, inclusive
    until: float = float("inf")  # event time, exclusive
    outcome: OutcomeName | None = None
    rule: str | None = None  # a rule id (or list:deny, list:allow)
    entity: str | None = None  # "<kind>:<pseudonym>", e.g. device:k1.3f2a...
    shadow: str | None = None  # a shadow rule id
    before: int | None = None  # page on: only records older than this seq
    limit: int = 100

    def term(self) -> str | None:
        """The one index term to walk (the most selective given), or None: the time index."""
        if self.entity:
            return self.entity
        if self.rule:
            return f"rule:{self.rule}"
        if self.shadow:
            return f"shadow:{self.shadow}"
        return None


class Found(msgspec.Struct):
    decisions: list[Decision]
    next_before: int | None = None  # pass as ``before`` for the next page


def terms(facts: dict[str, Any], decision: Decision) -> list[str]:
    out = [f"rule:{r.rule}" for r in decision.reasons]
    out += [f"shadow:{r.rule}" for r in decision.shadow]
    for kind in INDEXED_KINDS:
        value = facts.get(kind)
        if value is not None:
            out.append(f"{kind}:{value}")
    campaign = facts.get("campaign")
    if campaign is not None:  # the console's "top attacked campaigns"
        out.append(f"campaign:{campaign}")
    return list(dict.fromkeys(out))


def matches(q: DecisionQuery, d: Decision, facts: dict[str, Any]) -> bool:
    """The query as a predicate (the memory log's scan, and the SQL's reference)."""
    if d.tenant != q.tenant or not q.since <= d.time < q.until:
        return False
    if q.outcome is not None and d.outcome != q.outcome:
        return False
    found = set(terms(facts, d))
    wanted = [q.entity, f"rule:{q.rule}" if q.rule else None]
    wanted.append(f"shadow:{q.shadow}" if q.shadow else None)
    return all(w in found for w in wanted if w)
