"""The link graph's cost in bench/engine.py: the retail pack over simulated traffic with
every ring value read on every event type, against the same pack reading none, and
against it with the graph switched off (today's engine), alternating chunks in one run;
and the graph's bytes per entity it holds.

    python bench/engine.py --rings-only --retail-events 200000   (this module: ring_cost.py)
"""

from __future__ import annotations

import sys
from typing import Any

from shopguard.config import Pack, load_pack
from shopguard.events.catalog import EVENT_TYPES
from shopguard.links import LinkGraph, ring_names
from shopguard.links.config import LINK_KINDS

PACK = "extends: retail\n"
NO_LINKS = "links:\n" + "".join(f"  - {{kind: {k}, cap: 1, enabled: false}}\n" for k in LINK_KINDS)


def _reading_every_ring_value() -> str:
    """A rule per type reading every ring value (never firing: only the reads cost)."""
    names = ring_names(load_pack("retail").links)
    when = " + ".join(names) + " < 0"
    rules = "".join(
        f"  - {{id: ring_read_{t.replace('.', '_')}, on: [{t}], when: '{when}', "
        "action: review, reason: ring}\n"
        for t in sorted(EVENT_TYPES)
    )
    return "rules:\n" + rules


def graph_bytes(graph: LinkGraph) -> dict[str, Any]:
    """Bytes the graph holds (its nodes, their dicts and lists, the keys of its tables),
    per account (active or idle) and value node."""
    size = sys.getsizeof
    total, accounts, values = size(graph.tenants), 0, 0
    for tenant in graph.tenants.values():
        for table in (tenant.active, tenant.idle):
            total += size(table) + sum(size(k) for k in table)
            for node in table.values():
                held = (node.links, node.claims, node.redeems)
                total += size(node) + sum(size(x) for x in held if x is not None)
            accounts += len(table)
        for table in tenant.values:
            total += size(table) + sum(size(k) for k in table)
            total += sum(size(v) + size(v.accounts) for v in table.values())
            values += len(table)
    entities = max(1, accounts + values)
    return {
        "accounts": accounts,
        "values": values,
        "bytes": total,
        "bytes_per_entity": round(total / entities),
    }


def ring_packs() -> dict[str, Pack]:
    """The three engines' packs: retail with the graph off, on and unread, on and read."""
    texts = {
        "no_graph": {"pack.yaml": PACK, "links.yaml": NO_LINKS},
        "graph_unread": {"pack.yaml": PACK},
        "rings_read": {"pack.yaml": PACK, "rules.yaml": _reading_every_ring_value()},
    }
    return {name: load_pack(name, t) for name, t in texts.items()}


def compare(out: dict[str, Any]) -> None:
    """Each run with the graph against the one without: throughput ratio, µs added."""
    base = out["no_graph"]
    for name in ("graph_unread", "rings_read"):
        run = out[name]
        run["ratio"] = round(run["per_s"] / base["per_s"], 3)
        run["us_per_event_added"] = round(1e6 / run["per_s"] - 1e6 / base["per_s"], 2)
