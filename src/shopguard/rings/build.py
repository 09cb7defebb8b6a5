"""The batch run: the journal's window -> communities -> scored rings -> the ring book."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from shopguard.rings.book import Ring, RingBook, RingLink
from shopguard.rings.communities import components
from shopguard.rings.graph import LINK_KINDS, LinkGraph, LinkKind, TenantGraph, read_window
from shopguard.rings.score import Evidence, ring_score
from shopguard.state import DecisionLog

DAY = 86400.0


@dataclass(frozen=True)
class BuildOptions:
    window_s: float = 7 * DAY
    end: float | None = None  # event time; None: the newest event
    min_size: int = 3  # a pair is a household more often than a ring
    min_score: float = 0.0
    kinds: dict[str, LinkKind] | None = None


Communities = Callable[[TenantGraph], list[list[int]]]


def build_book(
    log: DecisionLog,
    options: BuildOptions | None = None,
    progress: Callable[[int], None] | None = None,
    communities: Communities | None = None,
) -> tuple[RingBook, LinkGraph]:
    options = options or BuildOptions()
    kinds = options.kinds or LINK_KINDS
    graph = read_window(log, options.window_s, options.end, kinds, progress)
    find = communities or (lambda g: components(g, kinds))
    rings: list[Ring] = []
    for tenant in graph.tenants.values():
        groups = [g for g in find(tenant) if len(g) >= options.min_size]
        names = tenant.names()
        for group, shared in zip(groups, _shared(tenant, groups), strict=True):
            ring = make_ring(tenant, names, group, shared, graph.end)
            if ring.score >= options.min_score:
                rings.append(ring)
    rings.sort(key=lambda r: (-r.score, -r.size, r.tenant, r.ring_id))
    book = RingBook(time.time(), graph.start, graph.end, rings)
    return book, graph


Shared = list[tuple[str, str, list[int]]]


def _shared(tenant: TenantGraph, groups: list[list[int]]) -> list[Shared]:
    """Per group, the non-hub values two or more of its members used, with those members
    (as positions in the group): one pass over the tenant's values for all groups."""
    where = {index: (g, i) for g, group in enumerate(groups) for i, index in enumerate(group)}
    found: list[Shared] = [[] for _ in groups]
    for kind, value, users in tenant.links():
        inside: dict[int, list[int]] = {}
        for user in users:
            at = where.get(user)
            if at is not None:
                inside.setdefault(at[0], []).append(at[1])
        for g, positions in inside.items():
            if len(positions) > 1:
                found[g].append((kind, value, sorted(positions)))
    return found


def make_ring(
    tenant: TenantGraph, names: list[str], group: list[int], shared: Shared, end: float
) -> Ring:
    members = [tenant.members[i] for i in group]
    link_types: dict[str, int] = {}
    for kind, _, _ in shared:
        link_types[kind] = link_types.get(kind, 0) + 1
    new = sum(1 for m in members if m.first_seen >= end - DAY)
    evidence = Evidence(
        len(group),
        new,
        sum(m.harm_events for m in members),
        sum(m.harm_money for m in members),
        sum(1 for m in members if m.denied),
        sum(1 for m in members if m.fraud_labels),
        len(link_types),
    )
    anchor = min(group, key=lambda i: (tenant.members[i].first_seen, names[i]))
    ring_id = "R-" + hashlib.sha256(f"{tenant.tenant}|{names[anchor]}".encode()).hexdigest()[:10]
    return Ring(
        ring_id,
        tenant.tenant,
        ring_score(evidence),
        [names[i] for i in group],
        [RingLink(kind, value, inside) for kind, value, inside in shared],
        min(m.first_seen for m in members),
        max(m.last_seen for m in members),
        new_accounts_24h=new,
        growth=round(new / len(group), 4),
        events=sum(m.events for m in members),
        harm_events=evidence.harm_events,
        harm_money=round(evidence.harm_money, 2),
        denied=evidence.denied,
        fraud_labels=evidence.labelled,
        link_types=link_types,
    )
