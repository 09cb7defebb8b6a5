"""The generated per-type read equals a plain loop over streams calling state methods."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from shopguard.config import load_pack
from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.events import decode_event
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.access import stream_alpha
from shopguard.features.plan import FeaturePlan, Touched, TypePlan
from shopguard.features.spec import FeatureSpec
from shopguard.simulate import simulate
from shopguard.state.memory import MemoryStateStore

NEVER_SEEN = {
    "count": 0,
    "sum": 0.0,
    "distinct": 0,
    "outstanding": 0.0,
    "followed_by": False,
    "not_followed_by": 0,
    "run_age": 0.0,
}
KEYS = KeyRing({"k1": b"test-secret-key-0123456789abcdef"}, "k1")


def reference(spec: FeatureSpec, state: Any, t: float) -> Any:
    """A feature's value as docs/features.md defines it, by its state's own methods;
    ``state`` None: the key was never seen."""
    w, n = spec.window_s, spec.within_s
    if state is None:
        return NEVER_SEEN.get(spec.kind)  # the other kinds: None
    return {
        "count": lambda: state.count(t - w),
        "sum": lambda: state.total(t - w),
        "mean": lambda: state.mean(t - w),
        "max": lambda: state.maximum(t - w),
        "distinct": lambda: state.count(t - w),
        "first_seen": lambda: t - state.first,
        "since_last": lambda: t - state.last,
        "followed_by": lambda: t - state.last <= n,
        "baseline": lambda: state.value(t, w, stream_alpha(spec), spec.warmup),
        "outstanding": lambda: state.total(t - w),
        "not_followed_by": lambda: state.timed_out(t, n, w),
        "silence_before": lambda: state.silence_at(t, spec.gap_s),
        "run_age": lambda: state.age_at(t, spec.gap_s),
    }[spec.kind]()


def plain_read(plan: TypePlan, facts: dict[str, Any], store: MemoryStateStore) -> Any:
    """The read as a reader of docs/features.md would write it, one stream at a time."""
    t = facts["time"]
    values: dict[str, Any] = {}
    touched: Touched = []
    for use in plan.uses:
        entities = [facts.get(kind) for kind in use.stream.key]
        if None in entities:
            values.update((spec.name, None) for spec in use.readers)
            continue
        key = (use.stream.group, "|".join(entities))
        row = store.load(facts["tenant"], [key])[0]
        state = None if row is None else row[use.stream.slot]
        for spec in use.readers:
            values[spec.name] = reference(spec, state, t)
        # a `where` reading features sees them as of before the event (gated uses come last)
        if use.apply and (use.gate is None or use.gate({**facts, **values})):
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
        store.save(facts["tenant"], plan.apply(facts, touched))
        compared += sum(v is not None for v in values.values())
    assert compared > 10_000  # most features had a value to compare


def test_the_generated_source_can_be_read() -> None:
    plans = FeaturePlan(load_pack("starter").features).compile({"payment": {"card_accounts_24h"}})
    source = inspect.getsource(plans["payment"].read)
    assert source.startswith("def read(facts, load):") and "'card_accounts_24h'" in source
