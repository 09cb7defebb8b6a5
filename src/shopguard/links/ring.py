"""An event's ring, as of before it: the ``ring_*`` values rules and the model read.

The walk starts from the event's own link values: those its account used in the window
and those the event carries (so a brand-new account's sign-up already sees the ring its
device, phone block or address belongs to). Hop one: the accounts on those values; hop
two: the accounts on theirs. Hubs (values more accounts used in the window than their
kind's cap) are not walked nor counted as shared. The read is bounded: at most
``ring_cap`` accounts and ``visit_budget`` edges looked at. The event itself is folded in
afterwards, with the other effects (graph.py). Written flat, with locals: it runs on
every event that reads a ring (bench/engine.py measures it).
"""

from __future__ import annotations

from typing import Any

from shopguard.links.config import RING_VALUES
from shopguard.links.graph import DENIED, FRAUD, Account, LinkGraph, TenantGraph, Value

DAY = 86400.0


def _own(
    graph: LinkGraph, tenant: TenantGraph, facts: dict[str, Any], me: Account | None, lo: float
) -> dict[Value, int]:
    """The event's link values in the graph (its account's in the window, its own), each
    used once by the event: the start of the walk and of the shared counts."""
    own: dict[Value, int] = {}
    if me is not None and me.links:
        own.update((v, 1) for v, when in me.links.items() if when > lo)
    get, tables = facts.get, tenant.values
    for i, fact in enumerate(graph.facts):
        key = get(fact)
        if key is not None:
            value = tables[i].get(key)
            if value is not None:
                own[value] = 1
    return own


class _Walk:
    """The ring so far, the hubs found and the budget left, for one read."""

    __slots__ = ("budget", "caps", "hubs", "lo", "me", "ring", "room", "seen")

    def __init__(self, graph: LinkGraph, me: Account | None, lo: float) -> None:
        self.me, self.lo, self.caps = me, lo, graph.caps
        self.room, self.budget = graph.config.ring_cap, graph.config.visit_budget
        self.ring: dict[Account, None] = {}
        self.seen: set[Value] = set()
        self.hubs: set[Value] = set()

    def hub(self, value: Value) -> bool:
        accounts, cap = value.accounts, self.caps[value.kind]
        if len(accounts) <= cap:
            return False
        lo = self.lo
        if sum(1 for when in accounts.values() if when > lo) <= cap:
            return False
        self.hubs.add(value)
        return True

    def visit(self, values: Any) -> bool:
        """Add the accounts on ``values`` (hubs aside); False once ring or budget is full."""
        ring, seen, me, lo = self.ring, self.seen, self.me, self.lo
        for value in values:
            if value in seen:
                continue
            seen.add(value)
            accounts = value.accounts
            self.budget -= len(accounts)
            if self.hub(value):
                continue
            for account, when in accounts.items():
                if when > lo and account is not me and account not in ring:
                    ring[account] = None
                    if len(ring) >= self.room:
                        return False
            if self.budget <= 0:
                return False
        return True


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
    own = _own(graph, tenant, facts, me, lo)
    walk = _Walk(graph, me, lo)
    going = walk.visit(own)
    ring = walk.ring
    if not ring:  # most events
        return dict.fromkeys(names, 0)
    users = own  # value -> how many of ring + event use it
    hop_one = list(ring)
    for member in hop_one:  # hop two, counting the members' values as it goes
        live = [v for v, when in (member.links or {}).items() if when > lo]
        for value in live:
            users[value] = users.get(value, 0) + 1
        going = going and walk.visit(live)
    for member in list(ring)[len(hop_one) :]:
        for value, when in (member.links or {}).items():
            if when > lo:
                users[value] = users.get(value, 0) + 1
    return _values(graph, walk, users, t)


def _values(graph: LinkGraph, walk: _Walk, users: dict[Value, int], t: float) -> dict[str, float]:
    ring, lo = walk.ring, walk.lo
    shared = [0] * len(graph.facts)  # per kind: values (hubs aside) two or more members use
    seen, hubs = walk.seen, walk.hubs
    for value, n in users.items():
        if n > 1 and (value not in hubs if value in seen else not walk.hub(value)):
            shared[value.kind] += 1
    size = len(ring)
    firsts = [a.first for a in ring if a.first is not None]
    values: dict[str, float] = {
        "ring_accounts": size,
        "ring_new_accounts_24h": sum(
            1 for a in ring if a.joined is not None and a.joined > t - DAY
        ),
        "ring_claims": sum(_since(a.claims, lo) for a in ring),
        "ring_redeems": sum(_since(a.redeems, lo) for a in ring),
        "ring_denied_share": sum(1 for a in ring if a.flags & DENIED) / size,
        "ring_fraud_share": sum(1 for a in ring if a.flags & FRAUD) / size,
        "ring_age": t - min(firsts) if firsts else 0,
        "ring_link_kinds": sum(1 for n in shared if n),
    }
    values.update(zip(graph.ring_names[len(RING_VALUES) :], shared, strict=True))
    return values


def _since(times: list[float] | None, lo: float) -> int:
    return sum(1 for when in times if when > lo) if times else 0
