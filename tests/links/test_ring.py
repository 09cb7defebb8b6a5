"""The online ring read equals a from-scratch graph search over the same events, for
random streams: several tenants, windows, memories, hub caps, labels and denials."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shopguard.links import LinkGraph, read_ring
from shopguard.links.config import LinkConfig, LinkKind
from tests.links.reference import Seen, reference_ring

KINDS = ("device", "card", "phone", "phone_block", "address")
TYPES = ("account.register", "promo.claim", "promo.redeem", "payment", "case.label")


@st.composite
def configs(draw: st.DrawFn) -> LinkConfig:
    window = draw(st.sampled_from([50.0, 100.0, 400.0]))
    kinds = tuple(
        LinkKind(kind, draw(st.integers(1, 4)), draw(st.booleans() | st.just(True)))
        for kind in KINDS
    )
    return LinkConfig(
        window=window,
        memory=window * draw(st.sampled_from([1, 2, 5])),
        ring_cap=10_000,  # bounds that never bind here: the bounded read has its own test
        visit_budget=10**9,
        account_links=1000,
        claims_kept=1000,
        kinds=kinds,
    )


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[dict[str, Any], int]]:
    out = []
    t = 0.0
    for i in range(draw(st.integers(1, 60))):
        t += draw(st.sampled_from([0.0, 1.0, 10.0, 30.0, 120.0, 600.0]))
        kind = draw(st.sampled_from(TYPES))
        facts: dict[str, Any] = {
            "type": kind,
            "event_id": f"e{i}",
            "tenant": draw(st.sampled_from(["shop", "mall"])),
            "time": t,
        }
        if draw(st.integers(0, 9)):  # now and then an event without an account
            facts["account"] = f"a{draw(st.integers(0, 7))}"
        for link in KINDS:
            if draw(st.booleans()):
                facts[link] = f"{link[0]}{draw(st.integers(0, 3))}"
        if kind == "case.label":
            facts["verdict"] = draw(st.sampled_from(["fraud", "abuse", "legit"]))
        out.append((facts, draw(st.sampled_from([0, 0, 1, 2, 3]))))
    return out


@settings(max_examples=120, deadline=None)
@given(configs(), streams())
def test_the_online_ring_equals_a_search_from_scratch(
    config: LinkConfig, stream: list[tuple[dict[str, Any], int]]
) -> None:
    graph = LinkGraph(config)
    seen: Seen = []
    for facts, outcome in stream:
        assert read_ring(graph, facts) == reference_ring(config, seen, facts), facts
        graph.fold(facts, outcome)
        seen.append((facts, outcome))


def _facts(i: int, t: float, account: str, **links: str) -> dict[str, Any]:
    return {
        "type": "account.register",
        "event_id": f"e{i}",
        "tenant": "shop",
        "time": t,
        "account": account,
        **links,
    }


def test_a_new_accounts_sign_up_sees_the_ring_of_its_device_and_block() -> None:
    config = LinkConfig(kinds=(LinkKind("device", 5), LinkKind("phone_block", 10)))
    graph = LinkGraph(config)
    graph.fold(_facts(0, 0.0, "a", device="d1", phone_block="b1"), 0)
    graph.fold(_facts(1, 60.0, "b", device="d2", phone_block="b1"), 3)  # denied
    graph.fold(_facts(2, 120.0, "c", device="d2"), 0)
    ring = read_ring(graph, _facts(3, 180.0, "new", device="d1"))
    # d1 -> a (hop one), a's block b1 -> b (hop two); c is three hops away
    assert ring["ring_accounts"] == 2
    assert ring["ring_denied_share"] == 0.5
    assert ring["ring_shared_device"] == 1  # d1: the new account and a
    assert ring["ring_shared_phone_block"] == 1  # b1: a and b
    assert ring["ring_link_kinds"] == 2
    assert ring["ring_age"] == 180.0


def test_a_hub_is_not_walked_and_the_read_is_bounded() -> None:
    config = LinkConfig(kinds=(LinkKind("ip", 3), LinkKind("device", 50)), ring_cap=4)
    graph = LinkGraph(config)
    for i in range(4):  # four accounts on one IP: more than its cap of three
        graph.fold(_facts(i, float(i), f"a{i}", ip="nat"), 0)
    assert read_ring(graph, _facts(9, 10.0, "x", ip="nat"))["ring_accounts"] == 0
    for i in range(10):  # a farm on one device: the read stops at ring_cap
        graph.fold(_facts(20 + i, 20.0 + i, f"f{i}", device="farm"), 0)
    assert read_ring(graph, _facts(99, 40.0, "y", device="farm"))["ring_accounts"] == 4


def test_tenants_graphs_never_touch() -> None:
    graph = LinkGraph(LinkConfig(kinds=(LinkKind("device", 5),)))
    graph.fold(_facts(0, 0.0, "a", device="d"), 0)
    other = {**_facts(1, 1.0, "b", device="d"), "tenant": "mall"}
    assert read_ring(graph, other)["ring_accounts"] == 0
    graph.fold(other, 0)
    assert read_ring(graph, _facts(2, 2.0, "c", device="d"))["ring_accounts"] == 1
    assert set(graph.tenants) == {"shop", "mall"}
