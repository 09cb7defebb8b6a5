"""A ring drawn as inline SVG (no JavaScript, no CDN): its accounts and the link values
they share (devices, cards, phone blocks, addresses...) as nodes, an edge wherever an
account used a value. Only pseudonyms (shortened) and display masks are drawn.

The layout is a force-directed one (Fruchterman-Reingold, numpy), seeded by the ring id
so a ring looks the same on every visit; big rings draw their most linked part."""

from __future__ import annotations

import hashlib
from html import escape

import numpy as np

from shopguard.rings.book import Ring

MAX_ACCOUNTS, MAX_LINKS = 120, 80  # beyond this a drawing is a hairball
KIND_COLOURS = {
    "device": "#5b7fbf",
    "card": "#c0392b",
    "phone": "#8e44ad",
    "phone_block": "#b57edc",
    "address": "#d9793a",
    "address_building": "#e0a96d",
    "ip": "#2e86ab",
    "ip16": "#7fb8d4",
    "email": "#3c9d5d",
    "email_shape": "#8fcf9f",
}
OTHER = "#78909c"


def short(pseudonym: str, n: int = 8) -> str:
    """``k1.3f2a9c41…`` for ``k1.3f2a9c41e0…``: enough to tell nodes apart, no more."""
    kid, _, rest = pseudonym.rpartition(".")
    return f"{kid}.{rest[:n]}…" if kid else f"{rest[:n]}…"


def drawn_part(ring: Ring) -> tuple[list[int], list[int]]:
    """(member indexes, link indexes) drawn: the links shared most, their members."""
    order = sorted(range(len(ring.links)), key=lambda i: -len(ring.links[i].members))
    links = order[:MAX_LINKS]
    members: dict[int, None] = {}
    for i in links:
        for m in ring.links[i].members:
            if len(members) < MAX_ACCOUNTS:
                members.setdefault(m, None)
    for m in range(len(ring.members)):  # accounts with no drawn link still show
        if len(members) >= MAX_ACCOUNTS:
            break
        members.setdefault(m, None)
    return list(members), links


def layout(n: int, edges: list[tuple[int, int]], seed: int, rounds: int = 150) -> np.ndarray:
    """Positions in [0, 1]² for ``n`` nodes."""
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pos = np.stack([np.cos(angle), np.sin(angle)], axis=1) * 0.5 + rng.normal(0, 0.05, (n, 2))
    k = 1.0 / np.sqrt(n)
    a = np.array([e[0] for e in edges], dtype=int)
    b = np.array([e[1] for e in edges], dtype=int)
    step = 0.1
    for _ in range(rounds):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 1e-4)
        push = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if len(edges):
            d = pos[a] - pos[b]
            length = np.maximum(np.linalg.norm(d, axis=1), 1e-4)[:, None]
            pull = d * length / k
            np.add.at(push, a, -pull)
            np.add.at(push, b, pull)
        size = np.maximum(np.linalg.norm(push, axis=1), 1e-9)[:, None]
        pos += push / size * np.minimum(size, step)
        step *= 0.97
    low, high = pos.min(axis=0), pos.max(axis=0)
    return np.asarray((pos - low) / np.maximum(high - low, 1e-9))


def ring_svg(ring: Ring, listed: set[str], width: int = 900, height: int = 560) -> str:
    """The drawing; ``listed``: members on the deny list (drawn red)."""
    members, links = drawn_part(ring)
    node_of = {m: i for i, m in enumerate(members)}
    edges: list[tuple[int, int, str]] = []
    for j, li in enumerate(links):
        link = ring.links[li]
        edges += [(len(members) + j, node_of[m], link.kind) for m in link.members if m in node_of]
    seed = int.from_bytes(hashlib.sha256(ring.ring_id.encode()).digest()[:8], "big")
    pos = layout(len(members) + len(links), [(e[0], e[1]) for e in edges], seed)
    pad = 40
    xy = [(pad + p[0] * (width - 2 * pad), pad + p[1] * (height - 2 * pad)) for p in pos]
    parts = [
        f'<svg class="ring" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="ring {escape(ring.ring_id)}: accounts and shared links">'
    ]
    for src, dst, kind in edges:
        (x1, y1), (x2, y2) = xy[src], xy[dst]
        colour = KIND_COLOURS.get(kind, OTHER)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
            f' stroke="{colour}" stroke-opacity=".55"/>'
        )
    for j, li in enumerate(links):
        link = ring.links[li]
        x, y = xy[len(members) + j]
        colour = KIND_COLOURS.get(link.kind, OTHER)
        label = link.mask or short(link.value, 6)
        parts.append(
            f'<g class="link" data-kind="{escape(link.kind)}">'
            f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" rx="3"'
            f' fill="{colour}"><title>{escape(link.kind)} {escape(label)}:'
            f" {len(link.members)} accounts</title></rect>"
            f'<text x="{x + 10:.1f}" y="{y + 4:.1f}" class="node-label">'
            f"{escape(link.kind)} {escape(label)}</text></g>"
        )
    for i, m in enumerate(members):
        account = ring.members[m]
        x, y = xy[i]
        fill = "#c0392b" if account in listed else "#37474f"
        parts.append(
            f'<a href="/console/entities/account/{escape(account)}" class="account">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{fill}">'
            f"<title>account {escape(short(account))}</title></circle>"
            f'<text x="{x + 8:.1f}" y="{y - 6:.1f}" class="node-label muted-label">'
            f"{escape(short(account, 6))}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
