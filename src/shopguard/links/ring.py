"""An event's ring, as of before it: the ``ring_*`` values rules and the model read.

The walk starts from the event's own link values: those its account used in the window
and those the event carries (so a brand-new account's sign-up already sees the ring its
device, phone block or address belongs to). Hop one: the accounts on those values; hop
two: the accounts on theirs. Hubs (values more accounts used in the window than their
kind's cap) are not walked nor counted as shared. The read is bounded: at most
``ring_cap`` accounts and ``visit_budget`` edges looked at. The event itself is folded in
afterwards, with the other effects (graph.py).
"""

from __future__ import annotations

from typing import Any

from shopguard.links.config import RING_VALUES
from shopguard.links.graph import DENIED, FRAUD, Account, LinkGraph, TenantGraph, Value

DAY = 86400.0


class _Walk:
    """One read's bookkeeping: the ring so far, the values seen, the budget left."""

    __slots__ = ("budget", "cap", "caps", "hubs", "lo", "me", "ring", "seen")

    def __init__(self, graph: LinkGraph, me: Account | None, lo: float) -> None:
        self.me, self.lo, self.caps = me, lo, graph.caps
        self.cap, self.budget = graph.config.ring_cap, graph.config.visit_budget
        self.ring: dict[Account, None] = {}
        self.seen: set[Value] = set()
        self.hubs: dict[Value, bool] = {}

    def hub(self, value: Value) -> bool:
        known = self.hubs.get(value)
        if known is None:
            accounts, cap = value.accounts, self.caps[value.kind]
            if len(accounts) <= cap:
                known = False
            else:
                self.budget -= len(accounts)
                lo = self.lo
                known = sum(1 for when in accounts.values() if when > lo) > cap
            self.hubs[value] = known
        return known

    def visit(self, value: Value) -> bool:
        """Add the accounts on ``value``; False once the ring or the budget is full."""
        if value in self.seen:
            return True
        self.seen.add(value)
        if self.hub(value):
            return self.budget > 0
        ring, me, lo = self.ring, self.me, self.lo
        for account, when in value.accounts.items():
            if when > lo and account is not me and account not in ring:
                ring[account] = None
                if len(ring) >= self.cap:
                    return False
        self.budget -= len(value.accounts)
        return self.budget > 0


def _own(
    graph: LinkGraph, tenant: TenantGraph, facts: dict[str, Any], me: Account | None, lo: float
) -> list[Value]:
    """The event's link values in the graph: its account's in the window, its own."""
    own: dict[Value, None] = {}
    if me is not None and me.links:
        own.update((v, None) for v, when in me.links.items() if when > lo)
    get = facts.get
    for i, fact in enumerate(graph.facts):
        key = get(fact)
        if key is not None:
            value = tenant.values[i].get(key)
            if value is not None:
                own[value] = None
    return list(own)


def _walk(walk: _Walk, own: list[Value]) -> None:
    for value in own:
        if not walk.visit(value):
            return
    lo = walk.lo
    for account in list(walk.ring):  # hop two
        for value, when in (account.links or {}).items():
            if when > lo and not walk.visit(value):
                return


def _shared(walk: _Walk, own: list[Value], kinds: int) -> list[int]:
    """Per kind, the values (hubs aside) that two or more of ring + event use."""
    users: dict[Value, int] = dict.fromkeys(own, 1)
    lo = walk.lo
    for account in walk.ring:
        for value, when in (account.links or {}).items():
            if when > lo:
                users[value] = users.get(value, 0) + 1
    shared = [0] * kinds
    for value, n in users.items():
        if n > 1 and not walk.hub(value):
            shared[value.kind] += 1
    return shared


def read_ring(graph: LinkGraph, facts: dict[str, Any]) -> dict[str, float]:
    """The ring values for this event (all numbers; 0 where there is no ring)."""
    names = graph.ring_names
    tenant = graph.tenants.get(facts["tenant"])
    if tenant is None:
        return dict.fromkeys(names, 0)
    t = facts["time"]
    lo = t - graph.config.window
    account = facts.get("account")
    me = tenant.active.get(account) if account is not None else None
    walk = _Walk(graph, me, lo)
    own = _own(graph, tenant, facts, me, lo)
    _walk(walk, own)
    ring = walk.ring
    if not ring:
        return dict.fromkeys(names, 0)
    size = len(ring)
    firsts = [a.first for a in ring if a.first is not None]
    shared = _shared(walk, own, len(graph.facts))
    values: dict[str, float] = {
        "ring_accounts": size,
        "ring_new_accounts_24h": sum(1 for f in firsts if f > t - DAY),
        "ring_claims": sum(_since(a.claims, lo) for a in ring),
        "ring_redeems": sum(_since(a.redeems, lo) for a in ring),
        "ring_denied_share": sum(1 for a in ring if a.flags & DENIED) / size,
        "ring_fraud_share": sum(1 for a in ring if a.flags & FRAUD) / size,
        "ring_age": t - min(firsts) if firsts else 0,
        "ring_link_kinds": sum(1 for n in shared if n),
    }
    values.update(zip(names[len(RING_VALUES) :], shared, strict=True))
    return values


def _since(times: list[float] | None, lo: float) -> int:
    return sum(1 for when in times if when > lo) if times else 0
