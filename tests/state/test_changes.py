"""List changes (strikes included) and the link graph reach every worker: the change
stream is read with each batch's claims, so the next decision of any worker sees what
another one changed; a worker that starts later takes the graph from the stream (or its
snapshot and the entries after it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from shopguard import Engine
from shopguard.links.graph import LinkGraph
from tests.conftest import event
from tests.servers import redis_cluster
from tests.state.shared_redis import redis_prefix, worker


def register(i: int, account: str, device: str, at: float) -> dict[str, Any]:
    return event("account.register", f"r{i}", at, account=account, device={"id": device})


def codes(decision: Any) -> list[str]:
    return [r.code for r in decision.reasons]


def nodes(links: LinkGraph) -> set[tuple[str, str]]:
    """Every tenant's accounts and link values, as names."""
    out = set()
    for tenant, graph in links.tenants.items():
        out |= {(tenant, a) for a in [*graph.active, *graph.idle]}
        out |= {(tenant, v) for table in graph.values for v in table}
    return out


def test_a_list_entry_made_on_one_worker_applies_on_the_next_decision_of_another() -> None:
    with redis_prefix("lists") as prefix:
        one, two = worker(prefix), worker(prefix)
        device = one.entity_value("shop", "device", "dx", raw=True)
        one.list_add("deny", "device", device, tenant="shop", raw=False, reason="fraud")
        decided = two.decide(register(1, "u1", "dx", 0))
        assert decided.outcome == "deny" and codes(decided) == ["LIST_DENY"]
        assert two.list_remove("deny", "device", device, tenant="shop")  # the other's entry
        assert one.catch_up_peers() and not one.catch_up_peers()  # the removal, once
        assert one.lists.get("deny", "device", device, 0.0, "shop") is None
        assert codes(one.decide(register(2, "u2", "dx", 1))) != ["LIST_DENY"]
        one.close()
        two.close()


def test_rule_entries_and_their_strikes_reach_the_other_worker() -> None:
    with redis_prefix("strikes") as prefix:
        one, two = worker(prefix), worker(prefix)
        # the device's fourth account in 24h is a farm (reg_device_farm): whichever worker
        # decides it lists the device; the feature counts the other worker's sign-ups
        decided = [(one, two)[i % 2].decide(register(i, f"u{i}", "farm", i)) for i in range(4)]
        assert [d.outcome for d in decided][-1] == "deny"
        assert "REG_DEVICE_FARM" in codes(decided[-1])
        device = one.entity_value("shop", "device", "farm", raw=True)
        later = register(9, "u9", "farm", 10)
        for engine in (one, two):
            assert codes(engine.decide({**later, "event_id": f"x{id(engine)}"})) == ["LIST_DENY"]
            assert engine.lists.strikes("deny", "device", device, "shop") == 1
        one.close()
        two.close()


def test_the_link_graph_is_every_workers_and_a_late_worker_takes_it_from_redis() -> None:
    with redis_prefix("links") as prefix:
        one, two = worker(prefix), worker(prefix)
        for i in range(6):  # six accounts on two devices, half on each worker
            (one, two)[i % 2].decide(register(i, f"acc{i}", f"dev{i % 2}", i))
        one.decide(event("account.login", "l1", 10, account="acc0", device={"id": "dev0"}))
        two.decide(event("account.login", "l2", 11, account="acc1", device={"id": "dev1"}))
        assert nodes(one.links) == nodes(two.links) and len(nodes(one.links)) == 8
        late = worker(prefix)  # from the stream's retained entries
        assert nodes(late.links) == nodes(two.links)
        one.checkpoint()  # catches up, then snapshots its graph into Redis
        two.decide(register(7, "acc7", "dev0", 12))
        after = worker(prefix)  # the snapshot and the entries after it
        one.decide(event("account.login", "l3", 13, account="acc0", device={"id": "dev0"}))
        assert nodes(after.links) == nodes(one.links)
        assert ring_size(after, "acc7") == ring_size(one, "acc7") == 3  # acc0, acc2, acc4
        for engine in (one, two, late, after):
            engine.close()


def test_an_erasure_on_one_worker_is_forgotten_by_every_worker() -> None:
    with redis_prefix("erase") as prefix:
        one, two = worker(prefix), worker(prefix)
        for i in range(4):  # the farm's device ends on the deny list of both
            (one, two)[i % 2].decide(register(i, f"u{i}", "farm", i))
        two.decide(register(8, "u8", "other", 8))
        one.checkpoint()  # the graph's snapshot in Redis names the account too
        account = one.entity_value("shop", "account", "u1", raw=True)
        assert ("shop", account) in nodes(one.links) and ("shop", account) in nodes(two.links)
        one.erase("shop", "account", account)
        two.catch_up_peers()
        late = worker(prefix)
        for engine in (one, two, late):
            assert ("shop", account) not in nodes(engine.links)
        device = one.entity_value("shop", "device", "farm", raw=True)
        assert two.lists.get("deny", "device", device, 0.0, "shop") is not None
        one.erase("shop", "device", device)
        assert two.catch_up_peers()
        assert two.lists.get("deny", "device", device, 0.0, "shop") is None
        for engine in (one, two, late):
            engine.close()


def ring_size(engine: Engine, account: str) -> Any:
    from shopguard.links import read_ring

    facts, _ = engine.desensitize(
        engine.admit(_decoded(event("account.login", "probe", 20, account=account)))
    )
    return read_ring(engine.links, facts)["ring_accounts"]


def _decoded(raw: dict[str, Any]) -> Any:
    from shopguard.events import decode_event

    return decode_event(raw)


def test_claims_and_changes_work_on_a_three_node_cluster(tmp_path: Path) -> None:
    """Claim keys hash-tagged per event and the stream on its own slot: redis-py's
    cluster pipeline sends each batch's commands to their nodes in one go."""
    with redis_cluster(tmp_path) as nodes:
        url = nodes[0].url
        one, two = (worker("c", url=url, redis_cluster=True) for _ in range(2))
        farm = [register(i, f"u{i}", "farm", i) for i in range(4)]
        first = one.decide_many(farm)
        again = two.decide_many(farm)  # the same ids: the first worker's decisions
        assert [msgspec.json.encode(d) for d in again] == [msgspec.json.encode(d) for d in first]
        assert first[-1].outcome == "deny"  # the device's fourth account: listed
        assert codes(two.decide(register(9, "u9", "farm", 9))) == ["LIST_DENY"]
        one.checkpoint()
        late = worker("c", url=url, redis_cluster=True)
        assert nodes_of(late) == nodes_of(one) and len(nodes_of(one)) == 6
        for engine in (one, two, late):
            engine.close()


def nodes_of(engine: Engine) -> set[tuple[str, str]]:
    return nodes(engine.links)
