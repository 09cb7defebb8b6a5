"""The generated per-type read equals a plain loop over streams and reader closures."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from shopguard.config import load_pack
from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.events import decode_event
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.plan import FeaturePlan, Touched, TypePlan
from shopguard.simulate import simulate
from shopguard.state.memory import MemoryStateStore

KEYS = KeyRing({"k1": b"test-secret-key-0123456789abcdef"}, "k1")


def plain_read(plan: TypePlan, facts: dict[str, Any], store: MemoryStateStore) -> Any:
    """The read as a reader of docs/features.md would write it, one stream at a time."""
    t = facts["time"]
    values: dict[str, Any] = {}
    touched: Touched = []
    for use in plan.uses:
        entities = [facts.get(kind) for kind in use.stream.key]
        if None in entities:
            values.update((name, None) for name, _, _ in use.readers)
            continue
        key = (use.stream.group, "|".join(entities))
        row = store.load([key])[0]
        state = None if row is None else row[use.stream.slot]
        for name, reader, empty in use.readers:
            values[name] = empty if state is None else reader(state, t)
        if use.apply:
            touched.append((key, use.stream.slot, state, use.fold))
    for name, num, den in plan.ratios:
        a = values[num] if num in values else facts.get(num)
        b = values[den] if den in values else facts.get(den)
        values[name] = None if a is None or not b else a / b
    return values, touched


@pytest.mark.parametrize("pack_name", ["starter", "retail", "cards", "signup"])
def test_generated_read_matches_the_plain_one(pack_name: str) -> None:
    pack = load_pack(pack_name)
    features = FeaturePlan(pack.features, max_events=50, distinct_bound=20)
    plans = features.compile({t: set(features.specs) for t in EVENT_TYPES})
    desensitize = Desensitizer(KEYS, "CN", 0, pack.catalog, pack.campaigns)
    store = MemoryStateStore()
    store.layout(features.widths)
    compared = 0
    for raw, _ in simulate(3000, seed=3):
        facts, _ = desensitize(decode_event(raw))
        plan = plans[facts["type"]]
        expected, want_touched = plain_read(plan, facts, store)
        values, touched = plan.read(facts, store.load)
        assert values == expected, facts["type"]
        assert list(values) == list(expected)  # same column order: datasets depend on it
        assert touched == want_touched
        store.save(plan.apply(facts, touched))
        compared += sum(v is not None for v in values.values())
    assert compared > 10_000  # most features had a value to compare


def test_the_generated_source_can_be_read() -> None:
    plans = FeaturePlan(load_pack("starter").features).compile({"payment": {"card_accounts_24h"}})
    source = inspect.getsource(plans["payment"].read)
    assert source.startswith("def read(facts, load):") and "'card_accounts_24h'" in source
