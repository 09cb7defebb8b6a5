"""Careful variants draw their habits per seed: no fixed signature to tune a rule on."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shopguard.simulate import simulate
from shopguard.simulate.attacks import ATTACKS

START = 3.4 * 86400


def shape(events: list[tuple[float, dict[str, Any]]]) -> tuple[int, ...]:
    """What a rule could fit on: how many distinct entities, how long, how dense."""

    def distinct(get: Any) -> int:
        return len({get(e) for _, e in events} - {None})

    times = [t for t, _ in events]
    return (
        distinct(lambda e: e.get("account")),
        distinct(lambda e: (e.get("device") or {}).get("id")),
        distinct(lambda e: e.get("ip")),
        distinct(lambda e: e.get("ip", "").rsplit(".", 1)[0] or None),
        distinct(lambda e: e.get("card")),
        distinct(lambda e: e.get("address")),
        round((max(times) - min(times)) / 60),
    )


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_careful_attack_looks_different_from_seed_to_seed(name: str) -> None:
    generate = ATTACKS[name].generate
    shapes = {shape(list(generate(random.Random(seed), START, 120, True))) for seed in range(5)}
    assert len(shapes) >= 4, shapes


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_default_attacks_keep_their_habits(name: str) -> None:
    """careful=False stays today's traffic: its knobs are fixed, not drawn."""
    generate = ATTACKS[name].generate
    one = list(generate(random.Random(5), START, 60, False))
    assert one == list(generate(random.Random(5), START, 60, False))
    assert one  # and it produces something


def test_careful_traffic_is_deterministic_per_seed_and_differs_across_seeds() -> None:
    first = list(simulate(8_000, seed=101, careful=True))
    assert first == list(simulate(8_000, seed=101, careful=True))
    assert first != list(simulate(8_000, seed=102, careful=True))
