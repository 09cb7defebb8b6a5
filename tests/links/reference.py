"""A from-scratch ring: the graph searched anew over the raw events before each one.

No state is kept between reads: every edge, hub, first seen and flag is recomputed from
the list of events already decided (facts and effective outcome), by the definitions in
docs/features.md ("Rings"), with a breadth-first search over the edges in the window.
"""

from __future__ import annotations

from typing import Any

from shopguard.links.config import RING_VALUES, SHARED, LinkConfig

Seen = list[tuple[dict[str, Any], int]]  # (facts, effective outcome), in decision order
DENY = 3


def _runs(config: LinkConfig, tenant: str, seen: Seen) -> dict[str, dict[str, Any]]:
    """Per account, what memory holds of it now: first seen and flags since it last
    came back after being idle for ``memory`` (judged at each event with an account)."""
    accounts: dict[str, dict[str, Any]] = {}
    for facts, outcome in seen:
        if facts["tenant"] != tenant or facts.get("account") is None:
            continue
        t = facts["time"]
        for name in [n for n, a in accounts.items() if a["last"] <= t - config.memory]:
            del accounts[name]
        a = accounts.setdefault(
            facts["account"], {"first": None, "joined": None, "last": t, "d": 0, "f": 0}
        )
        a["last"] = max(a["last"], t)
        if facts["type"] == "case.label":
            a["f"] |= facts.get("verdict") not in (None, "legit")
        else:
            if a["first"] is None or t < a["first"]:
                a["first"] = t
            joins = facts["type"] == "account.register"
            if joins and (a["joined"] is None or t < a["joined"]):
                a["joined"] = t
        a["d"] |= outcome == DENY
    return accounts


def reference_ring(config: LinkConfig, seen: Seen, facts: dict[str, Any]) -> dict[str, float]:
    kinds = [k for k in config.kinds if k.enabled]
    names = [*RING_VALUES, *(SHARED + k.kind for k in kinds)]
    tenant, t = facts["tenant"], facts["time"]
    lo = t - config.window
    mine = [
        f
        for f, _ in seen
        if f["tenant"] == tenant and f.get("account") is not None and f["type"] != "case.label"
    ]
    edges = {
        (f["account"], k.kind, f[k.kind])
        for f in mine
        if f["time"] > lo
        for k in kinds
        if f.get(k.kind) is not None
    }
    on: dict[tuple[str, str], set[str]] = {}  # value -> accounts using it in the window
    of: dict[str, set[tuple[str, str]]] = {}  # account -> its values in the window
    for account, kind, value in edges:
        on.setdefault((kind, value), set()).add(account)
        of.setdefault(account, set()).add((kind, value))
    cap = {k.kind: k.cap for k in kinds}

    def hub(v: tuple[str, str]) -> bool:
        return len(on.get(v, ())) > cap[v[0]]

    me = facts.get("account")
    own = set(of.get(me, set())) if me is not None else set()
    own |= {(k.kind, facts[k.kind]) for k in kinds if facts.get(k.kind) is not None}
    hop1 = {a for v in own if not hub(v) for a in on.get(v, ())} - {me}
    hop2 = {a for x in hop1 for v in of[x] if not hub(v) for a in on[v]} - {me}
    ring = hop1 | hop2
    out: dict[str, float] = dict.fromkeys(names, 0)
    if not ring:
        return out
    runs = _runs(config, tenant, seen)
    firsts = [runs[a]["first"] for a in ring]

    def harm(kind: str) -> int:
        return sum(1 for f in mine if f["type"] == kind and f["account"] in ring and f["time"] > lo)

    users: dict[tuple[str, str], int] = dict.fromkeys(own, 1)
    for a in ring:
        for v in of[a]:
            users[v] = users.get(v, 0) + 1
    shared = {k.kind: 0 for k in kinds}
    for v, n in users.items():
        if n > 1 and not hub(v):
            shared[v[0]] += 1
    out.update(
        ring_accounts=len(ring),
        ring_new_accounts_24h=sum(
            1 for a in ring if runs[a]["joined"] is not None and runs[a]["joined"] > t - 86400
        ),
        ring_claims=harm("promo.claim"),
        ring_redeems=harm("promo.redeem"),
        ring_denied_share=sum(runs[a]["d"] for a in ring) / len(ring),
        ring_fraud_share=sum(runs[a]["f"] for a in ring) / len(ring),
        ring_age=t - min(firsts),
        ring_link_kinds=sum(1 for n in shared.values() if n),
    )
    out.update({SHARED + kind: n for kind, n in shared.items()})
    return out
