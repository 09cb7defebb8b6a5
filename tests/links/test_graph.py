"""What the graph keeps: bounded per account and per value, forgotten on request."""

from __future__ import annotations

from typing import Any

from shopguard.links import LinkGraph, read_ring
from shopguard.links.config import LinkConfig, LinkKind


def _facts(t: float, account: str, kind: str = "payment", **links: str) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": f"{account}{t}",
        "tenant": "shop",
        "time": t,
        "account": account,
        **links,
    }


def test_an_account_keeps_its_newest_links_and_claims_and_a_hub_its_newest_users() -> None:
    config = LinkConfig(
        kinds=(LinkKind("ip", 3), LinkKind("device", 5)), account_links=4, claims_kept=5
    )
    graph = LinkGraph(config)
    for i in range(50):  # one proxy user: fifty IPs, fifty claims
        graph.fold(_facts(float(i), "proxy", "promo.claim", ip=f"ip{i}"), 0)
    node = graph.tenants["shop"].active["proxy"]
    assert node.links is not None and len(node.links) == 4 and node.claims == [45, 46, 47, 48, 49]
    assert len(graph.tenants["shop"].values[0]) == 4  # values no one uses any more are gone
    for i in range(30):  # thirty accounts behind one NAT
        graph.fold(_facts(100.0 + i, f"a{i}", ip="nat"), 0)
    assert len(graph.tenants["shop"].values[0]["nat"].accounts) == 4  # cap + 1


def test_an_account_idle_for_memory_starts_afresh() -> None:
    config = LinkConfig(window=100.0, memory=300.0, kinds=(LinkKind("device", 5),))
    graph = LinkGraph(config)
    graph.fold(_facts(0.0, "old", device="d"), 3)
    graph.fold(_facts(1000.0, "old", device="d"), 0)
    ring = read_ring(graph, _facts(1001.0, "new", device="d"))
    assert ring["ring_age"] == 1.0 and ring["ring_denied_share"] == 0  # first seen again


def test_erasure_drops_an_account_or_a_value_with_its_edges() -> None:
    graph = LinkGraph(LinkConfig(kinds=(LinkKind("device", 5), LinkKind("card", 4))))
    for account in ("a", "b"):
        graph.fold(_facts(0.0, account, device="d", card="c"), 0)
    assert graph.forget("shop", "device", "d") == 1
    assert read_ring(graph, _facts(1.0, "x", device="d"))["ring_accounts"] == 0
    assert read_ring(graph, _facts(1.0, "x", card="c"))["ring_accounts"] == 2
    assert graph.forget("shop", "account", "a") == 1
    assert read_ring(graph, _facts(1.0, "x", card="c"))["ring_accounts"] == 1
    assert graph.forget("shop", "phone", "p") == 0 and graph.forget("mall", "account", "a") == 0
    assert len(graph) == 2  # b and its card
