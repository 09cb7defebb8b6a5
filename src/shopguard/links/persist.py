"""The link graph as snapshot data (msgpack, plain fields only: no code runs on decode).

Both sides of every edge are written in their own order (an account's values, a value's
accounts, oldest first), so the graph restored is the graph taken, down to what its next
eviction drops: a restart decides exactly as the run it replaces would have.
"""

from __future__ import annotations

import msgspec

from shopguard.links.graph import Account, LinkGraph, TenantGraph, Value


class Node(msgspec.Struct, array_like=True):
    name: str
    first: float | None
    last: float
    flags: int
    links: list[tuple[int, float]] | None  # (value index, time), oldest first
    claims: list[float] | None
    redeems: list[float] | None
    joined: float | None = None


class Tenant(msgspec.Struct, array_like=True):
    tenant: str
    values: list[tuple[int, str, list[tuple[int, float]]]]  # kind, key, (node index, time)
    active: list[Node]
    idle: list[Node]
    folds: int  # when it next sweeps its quiet accounts


class GraphError(ValueError):
    """Graph data that does not fit the graph's kinds or refers to what it lacks."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Tenant])


def encode_graph(graph: LinkGraph) -> bytes:
    out = []
    for name, tenant in graph.tenants.items():
        index = {node: i for i, node in enumerate(tenant.active.values())}
        values: list[tuple[int, str, list[tuple[int, float]]]] = []
        where: dict[Value, int] = {}
        for table in tenant.values:
            for key, value in table.items():
                where[value] = len(values)
                edges = [(index[a], when) for a, when in value.accounts.items()]
                values.append((value.kind, key, edges))
        active = [_node(n, a, where) for n, a in tenant.active.items()]
        idle = [_node(n, a, where) for n, a in tenant.idle.items()]
        out.append(Tenant(name, values, active, idle, tenant.folds))
    return _encoder.encode(out)


def _node(name: str, a: Account, where: dict[Value, int]) -> Node:
    links = None if a.links is None else [(where[v], when) for v, when in a.links.items()]
    return Node(name, a.first, a.last, a.flags, links, a.claims, a.redeems, a.joined)


def decode_graph(blob: bytes, graph: LinkGraph) -> dict[str, TenantGraph]:
    """The tenants' graphs from ``blob``, for ``graph``'s kinds; raises GraphError or
    msgspec.DecodeError, leaving ``graph`` as it was."""
    tenants: dict[str, TenantGraph] = {}
    kinds = len(graph.facts)
    try:
        for data in _decoder.decode(blob) if blob else []:
            tenants[data.tenant] = _tenant(data, kinds)
    except (IndexError, KeyError) as exc:
        raise GraphError(f"graph data refers to what it lacks: {exc!r}") from None
    return tenants


def _tenant(data: Tenant, kinds: int) -> TenantGraph:
    tenant = TenantGraph(kinds)
    tenant.folds = data.folds
    nodes = [_account(n) for n in data.active]
    values: list[Value] = []
    for kind, key, edges in data.values:
        if not 0 <= kind < kinds:
            raise GraphError(f"a value of kind {kind}; the graph has {kinds}")
        value = tenant.values[kind][key] = Value(kind, key)
        value.accounts = {nodes[i]: when for i, when in edges}
        values.append(value)
    for node, data_node in zip(nodes, data.active, strict=True):
        if data_node.links is not None:
            node.links = {values[i]: when for i, when in data_node.links}
        tenant.active[data_node.name] = node
    for data_node in data.idle:
        tenant.idle[data_node.name] = _account(data_node)
    return tenant


def _account(data: Node) -> Account:
    node = Account()
    node.first, node.last, node.flags = data.first, data.last, data.flags
    node.claims, node.redeems, node.joined = data.claims, data.redeems, data.joined
    return node
