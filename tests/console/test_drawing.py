"""The ring drawing: masked, shortened pseudonyms only, the same on every visit, bounded."""

from __future__ import annotations

import re

from shopguard.console.drawing import MAX_ACCOUNTS, ring_svg, short
from shopguard.rings.book import Ring, RingLink

PSEUDO = "k1." + "ab" * 16


def _ring(size: int) -> Ring:
    members = [f"k1.{i:032x}" for i in range(size)]
    links = [
        RingLink("device", "k1." + "d" * 32, list(range(size))),
        RingLink("address", "k1." + "e" * 32, [0, 1], "88***"),
        RingLink("phone_block", "k1." + "f" * 32, list(range(0, size, 2))),
    ]
    return Ring("R-draw", "shop", 0.8, members, links, 0.0, 1.0)


def test_the_drawing_shows_nodes_edges_and_masks_never_whole_pseudonyms() -> None:
    ring = _ring(5)
    svg = ring_svg(ring, {ring.members[0]})
    assert svg.count('class="account"') == 5 and svg.count('class="link"') == 3
    assert svg.count("<line") == 5 + 2 + 3
    assert "88***" in svg and svg.count('fill="#c0392b"><title>account') == 1
    shown = re.sub(r'href="[^"]*"', "", svg)  # links carry the pseudonym to the entity page
    assert not any(m in shown for m in ring.members) and "d" * 32 not in shown
    assert short(PSEUDO) == "k1.abababab…"
    assert svg == ring_svg(ring, {ring.members[0]})  # seeded by the ring id


def test_a_big_ring_draws_a_bounded_part() -> None:
    svg = ring_svg(_ring(MAX_ACCOUNTS * 3), set())
    assert svg.count('class="account"') == MAX_ACCOUNTS
