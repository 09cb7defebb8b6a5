"""The ring score: 0..1, rising with every kind of evidence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shopguard.rings.score import Evidence, ring_score

BASE = Evidence(size=6, new_24h=1, harm_events=3, harm_money=40.0, denied=0, labelled=0,
                link_kinds=2)  # fmt: skip


def test_bounded() -> None:
    assert 0.0 <= ring_score(Evidence(2, 0, 0, 0.0, 0, 0, 1)) < 0.05
    worst = Evidence(500, 500, 5000, 1e7, 500, 500, 9)
    assert 0.9 < ring_score(worst) <= 1.0


def test_monotone_in_harm_and_labels_and_denials() -> None:
    for field, steps in (("harm_events", (0, 3, 10, 40)), ("harm_money", (0.0, 100.0, 5000.0)),
                         ("labelled", (0, 1, 3, 6)), ("denied", (0, 2, 6)),
                         ("new_24h", (0, 3, 6)), ("link_kinds", (1, 2, 5))):  # fmt: skip
        changes: list[dict[str, Any]] = [{field: v} for v in steps]
        scores = [ring_score(replace(BASE, **change)) for change in changes]
        assert scores == sorted(scores) and scores[0] < scores[-1], (field, scores)


def test_a_labelled_ring_outranks_a_busy_honest_one() -> None:
    family = Evidence(4, 0, 12, 600.0, 0, 0, 2)
    assert ring_score(replace(family, labelled=2)) > ring_score(family)
