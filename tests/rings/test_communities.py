"""Weighted connected components over hand-made link graphs."""

from __future__ import annotations

from shopguard.rings.communities import components
from shopguard.rings.graph import LINK_KINDS, TenantGraph


def graph(accounts: int, links: dict[tuple[str, str], set[int] | None]) -> TenantGraph:
    g = TenantGraph("shop")
    for i in range(accounts):
        g.account(f"a{i}", float(i))
    g.values.update(links)
    return g


def test_a_strong_link_joins_alone_and_chains() -> None:
    g = graph(6, {("device", "d1"): {0, 1}, ("card", "c1"): {1, 2}, ("phone", "p1"): {4, 5}})
    assert components(g) == [[0, 1, 2], [4, 5]]


def test_weak_links_join_only_together() -> None:
    # an IP (0.5) alone is a neighbour; an IP and a phone block (0.5 + 0.5) are one hand
    g = graph(
        4, {("ip", "i1"): {0, 1, 2}, ("phone_block", "b1"): {1, 2}, ("user_agent", "u"): {0, 3}}
    )
    assert components(g) == [[1, 2]]


def test_hubs_join_nobody() -> None:
    g = graph(5, {("device", "d1"): None, ("ip", "i1"): {0, 1}, ("ip16", "n1"): {0, 1}})
    assert components(g) == []  # 0.5 + 0.2 < 1.0, the hub device is gone
    g.values[("card", "c1")] = {3, 4}
    assert components(g) == [[3, 4]]


def test_every_kind_has_a_weight_and_a_cap() -> None:
    for kind in ("device", "card", "phone", "phone_block", "address", "address_building",
                 "email", "email_pattern", "ip", "ip16", "user_agent", "device_model",
                 "referrer"):  # fmt: skip
        assert 0 < LINK_KINDS[kind].weight <= 1 and LINK_KINDS[kind].cap >= 2
