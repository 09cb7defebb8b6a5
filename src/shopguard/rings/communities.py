"""Communities of accounts in a tenant's link graph: weighted connected components.

Two accounts are joined when the links they share weigh 1.0 or more together (a device
alone; an IP with a phone block; an IP, a user agent and a building...). Strong values
(weight 1.0) join their users without listing pairs; weaker ones add up per pair, which
their caps keep bounded (a value of k accounts makes k(k-1)/2 pairs). Chosen over
igraph + leidenalg by bench/rings.py (docs/rings.md has the figures).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from shopguard.rings.graph import LINK_KINDS, LinkKind, TenantGraph

JOIN = 1.0  # the weight of shared links that makes two accounts one community


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        parent = self.parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:  # path compression
            parent[a], a = root, parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def pair_weights(
    graph: TenantGraph, kinds: dict[str, LinkKind] | None = None, strong: bool = True
) -> dict[tuple[int, int], float]:
    """Per pair of accounts sharing non-hub values, the sum of those values' weights
    (``strong`` False: only the values weighing less than JOIN alone)."""
    kinds = LINK_KINDS if kinds is None else kinds
    weights: dict[tuple[int, int], float] = defaultdict(float)
    for kind, _, users in graph.links():
        weight = kinds[kind].weight
        if weight >= JOIN and not strong:
            continue
        for a, b in combinations(sorted(users), 2):
            weights[(a, b)] += weight
    return weights


def components(graph: TenantGraph, kinds: dict[str, LinkKind] | None = None) -> list[list[int]]:
    """Weighted connected components of two or more accounts, largest first."""
    kinds = LINK_KINDS if kinds is None else kinds
    found = UnionFind(len(graph.members))
    for kind, _, users in graph.links():
        if kinds[kind].weight >= JOIN:
            first, *rest = users
            for other in rest:
                found.union(first, other)
    for (a, b), weight in pair_weights(graph, kinds, strong=False).items():
        if weight >= JOIN - 1e-9:
            found.union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(graph.members)):
        groups[found.find(index)].append(index)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
