"""The online link graph: per tenant, accounts and link values joined by timed edges.

Both sides of an edge hold its time (an account's values, a value's accounts), in dicts
ordered oldest first (an edge used again moves to the end), so expiry and eviction pop
from the front: O(1) per event amortized, pruned lazily as events come. Bounds:
- a value keeps its ``cap + 1`` most recent accounts: enough to tell a hub (more than
  ``cap`` accounts in the window) from a value it is safe to walk, and, events coming in
  time order, the accounts it drops are older than those it keeps, so they have expired
  by the time it stops being a hub: nothing a ring read sees changes;
- an account keeps its ``account_links`` most recent values and ``claims_kept`` claim and
  redeem times;
- an account with no event for a window loses its edges and times (it is idle: first
  seen and flags only); one idle for ``memory`` is forgotten, and its first seen starts
  again if it comes back.
Nodes are linked by object (identity hashing, no key strings rebuilt per event).
"""

from __future__ import annotations

from typing import Any

from shopguard.labels.label import LOSS_KINDS
from shopguard.links.config import LinkConfig, ring_names
from shopguard.outcome import Outcome

DENIED, FRAUD = 1, 2  # Account.flags
_DENY = int(Outcome.DENY)


class Account:
    __slots__ = ("claims", "first", "flags", "joined", "last", "links", "redeems")

    def __init__(self) -> None:
        self.first: float | None = None  # its first event (labels aside) in memory
        # When it signed up, where the graph saw it (an account.register): "new" means
        # this, not first seen, which is every account's the week a deployment starts.
        self.joined: float | None = None
        self.last = float("-inf")  # its last event of any type: what keeps it in memory
        self.flags = 0
        self.links: dict[Value, float] | None = None  # value -> last time used
        self.claims: list[float] | None = None
        self.redeems: list[float] | None = None


class Value:
    __slots__ = ("accounts", "key", "kind")

    def __init__(self, kind: int, key: str) -> None:
        self.kind = kind  # index into the enabled kinds
        self.key = key
        self.accounts: dict[Account, float] = {}  # account -> last time it used this


PRUNE_EVERY = 64  # a tenant's folds between sweeps of its quiet accounts (memory only)


class TenantGraph:
    __slots__ = ("active", "folds", "idle", "values")

    def __init__(self, kinds: int) -> None:
        self.values: list[dict[str, Value]] = [{} for _ in range(kinds)]
        self.active: dict[str, Account] = {}  # with an event in the window, oldest first
        self.idle: dict[str, Account] = {}  # without, oldest first
        self.folds = 0  # events folded: when to sweep

    def drop_edge(self, account: Account, value: Value) -> None:
        assert account.links is not None
        del account.links[value]
        del value.accounts[account]
        if not value.accounts:
            del self.values[value.kind][value.key]

    def strip(self, node: Account) -> None:
        """Its edges and times go (all expired): what an idle account keeps is less."""
        if node.links:
            for value in list(node.links):
                self.drop_edge(node, value)
        node.links = node.claims = node.redeems = None

    def prune(self, t: float, window: float, memory: float) -> None:
        """Accounts quiet for a window go idle (their edges expired); idle ones quiet
        for ``memory`` go. What reads see does not depend on when this runs: reads look
        at edge times, and an account coming back after ``memory`` starts afresh."""
        active, lo = self.active, t - window
        while active:
            key = next(iter(active))
            node = active[key]
            if node.last > lo:
                break
            del active[key]
            self.strip(node)
            self.idle[key] = node
        idle, lo = self.idle, t - memory
        while idle:
            key = next(iter(idle))
            if idle[key].last > lo:
                break
            del idle[key]

    def node(self, account: str, t: float, memory: float) -> Account:
        """The account's node, moved to the newest end of the active ones (nodes enter
        the idle ones only from the front of those, so both stay ordered by their last
        event); a new one where it is unknown or was quiet for ``memory``."""
        node = self.active.pop(account, None) or self.idle.pop(account, None)
        if node is None:
            node = Account()
        elif node.last <= t - memory:
            self.strip(node)
            node = Account()
        self.active[account] = node
        if t > node.last:
            node.last = t
        return node


class LinkGraph:
    """Every tenant's graph; ``fold`` is the effects stage's, for live and replay alike."""

    def __init__(self, config: LinkConfig) -> None:
        self.config = config
        kinds = config.enabled
        self.facts = tuple(k.kind for k in kinds)  # fact names, by kind index
        self.caps = tuple(k.cap for k in kinds)
        self.ring_names = ring_names(config)
        self.tenants: dict[str, TenantGraph] = {}
        self._links = tuple((k.kind, i, k.cap + 1) for i, k in enumerate(kinds))

    def tenant(self, tenant: str) -> TenantGraph:
        graph = self.tenants.get(tenant)
        if graph is None:
            graph = self.tenants[tenant] = TenantGraph(len(self.facts))
        return graph

    def fold(self, facts: dict[str, Any], outcome: int) -> None:
        """An event decided with ``outcome`` (the effective one): its account's edges to
        its link values, first seen, claims and redeems, denied and fraud flags."""
        account = facts.get("account")
        if account is None or not self.facts:
            return
        config, t = self.config, facts["time"]
        graph = self.tenants.get(facts["tenant"]) or self.tenant(facts["tenant"])
        graph.folds += 1
        if not graph.folds % PRUNE_EVERY:
            graph.prune(t, config.window, config.memory)
        node = graph.node(account, t, config.memory)
        if outcome == _DENY:
            node.flags |= DENIED
        kind = facts["type"]
        if kind == "case.label":  # says who did it, is not something the account did
            if facts.get("verdict") in LOSS_KINDS:
                node.flags |= FRAUD
            return
        if node.first is None or t < node.first:
            node.first = t
        if kind == "account.register" and (node.joined is None or t < node.joined):
            node.joined = t
        if kind == "promo.claim":
            node.claims = self._timed(node.claims, t)
        elif kind == "promo.redeem":
            node.redeems = self._timed(node.redeems, t)
        self._link(graph, node, facts, t)

    def _timed(self, times: list[float] | None, t: float) -> list[float]:
        if times is None:
            return [t]
        lo, keep = t - self.config.window, self.config.claims_kept
        start = 0
        while start < len(times) and times[start] <= lo:
            start += 1
        if start or len(times) >= keep:
            del times[: max(start, len(times) + 1 - keep)]
        times.append(t)
        return times

    def _link(self, graph: TenantGraph, node: Account, facts: dict[str, Any], t: float) -> None:
        links = node.links
        if links is None:
            links = node.links = {}
        else:
            lo = t - self.config.window
            while links:  # its expired edges, oldest first
                oldest = next(iter(links))
                if links[oldest] > lo:
                    break
                graph.drop_edge(node, oldest)
        get, tables = facts.get, graph.values
        for fact, i, full in self._links:
            key = get(fact)
            if key is None:
                continue
            table = tables[i]
            value = table.get(key)
            if value is None:
                value = table[key] = Value(i, key)
            when = links.pop(value, t)
            if when < t:
                when = t
            links[value] = when
            accounts = value.accounts
            accounts.pop(node, None)
            accounts[node] = when
            if len(accounts) > full:  # a hub: its oldest user is dropped (see above)
                graph.drop_edge(next(iter(accounts)), value)
        while len(links) > self.config.account_links:
            graph.drop_edge(node, next(iter(links)))

    def forget(self, tenant: str, kind: str, key: str) -> int:
        """Erasure: the account (kind ``account``) or the link value and its edges;
        returns the nodes dropped."""
        graph = self.tenants.get(tenant)
        if graph is None:
            return 0
        if kind == "account":
            node = graph.active.pop(key, None) or graph.idle.pop(key, None)
            if node is not None:
                graph.strip(node)
            return int(node is not None)
        if kind not in self.facts:
            return 0
        value = graph.values[self.facts.index(kind)].get(key)
        if value is None:
            return 0
        for account in list(value.accounts):
            graph.drop_edge(account, value)
        return 1

    def __len__(self) -> int:
        """Nodes held: accounts (active and idle) and values."""
        return sum(
            len(g.active) + len(g.idle) + sum(map(len, g.values)) for g in self.tenants.values()
        )
