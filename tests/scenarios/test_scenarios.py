"""Detection scenarios as data: events in, expected outcome and reason codes out.

Each YAML file beside this module holds scenarios, run with the pack the file names
(`pack:`, default starter; or a test pack under ``packs/``). An event may ``repeat: n`` times
(``{i}`` in its strings is replaced by 0..n-1, ``every`` spaces them in seconds); ``at``
is seconds from the scenario start (default: one second after the previous event).
``expect`` is checked on the last decision: ``outcome``, ``challenge``, ``codes`` (all
present), ``absent`` (none present), ``shadow`` (shadow codes present), ``recommend``.
``rings`` (optional) is a ring book the batch run published before the events: a list of
``{id, score, members}`` (members by raw account id, pseudonymized for tenant ``shop``),
written into the engine's data directory (a temporary one) for ``ring_score``/``ring_size``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.config import Pack, load_pack
from shopguard.rings.book import Ring, RingBook, book_path, save_book
from shopguard.yamlio import load_yaml
from tests.conftest import event, make_engine

HERE = Path(__file__).parent


def _scenarios() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        doc = load_yaml(path.read_text())
        for item in doc["scenarios"]:
            out.append(
                (f"{path.stem}: {item['name']}", {"pack": doc.get("pack", "starter"), **item})
            )
    return out


@functools.cache
def _pack(name: str) -> Pack:
    local = HERE / name  # a test pack beside the scenarios (packs/budgeted)
    return load_pack(local if local.is_dir() else name)


SCENARIOS = _scenarios()


def _fill(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, dict):
        return {k: _fill(v, i) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, i) for v in value]
    return value


def expand(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    at = -1.0
    for n, spec in enumerate(events):
        spec = dict(spec)
        repeat, every = int(spec.pop("repeat", 1)), float(spec.pop("every", 1))
        start = float(spec.pop("at", at + 1))
        event_type = spec.pop("type")
        for i in range(repeat):
            at = start + i * every
            out.append(event(event_type, f"ev-{n}-{i}", at, **_fill(spec, i)))
    return out


def _publish_rings(engine: Engine, rings: list[dict[str, Any]]) -> None:
    """Write a ring book into the engine's data directory, as ``shopguard rings`` would."""
    pseudo = engine.desensitize.entity
    book = RingBook(0.0, 0.0, 0.0, [])
    for r in rings:
        members = [pseudo("shop", "account", str(a)) for a in r["members"]]
        book.rings.append(Ring(r["id"], "shop", float(r["score"]), members, [], 0.0, 0.0))
    save_book(book_path(engine.settings.data_dir), book)
    engine.rings._next = float("-inf")  # take the book with the first event


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(name: str, scenario: dict[str, Any], tmp_path: Path) -> None:
    settings = dict(scenario.get("settings", {}))
    if "rings" in scenario:
        settings.setdefault("data_dir", str(tmp_path))
    engine = make_engine(pack=_pack(scenario["pack"]), **settings)
    if "rings" in scenario:
        _publish_rings(engine, scenario["rings"])
    for entry in scenario.get("lists", []):
        engine.list_add(
            entry["list"], entry["kind"], entry["value"], tenant="shop", reason="scenario"
        )
    decisions = [engine.decide(e) for e in expand(scenario["events"])]
    last = decisions[-1]
    expect = scenario["expect"]
    codes = {r.code for r in last.reasons}
    shadow = {r.code for r in last.shadow}
    context = f"{name}: got {last.outcome} {sorted(codes)} shadow={sorted(shadow)}"
    if "outcome" in expect:
        assert last.outcome == expect["outcome"], context
    if "challenge" in expect:
        assert last.challenge == expect["challenge"], context
    assert set(expect.get("codes", [])) <= codes, context
    assert not set(expect.get("absent", [])) & (codes | shadow), context
    assert set(expect.get("shadow", [])) <= shadow, context
    assert set(expect.get("recommend", [])) <= set(last.recommendations), context
    assert not last.trace, last.trace


def test_every_rule_has_a_firing_and_a_quiet_scenario() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for _, scenario in SCENARIOS:
        fires |= set(scenario["expect"].get("codes", [])) | set(
            scenario["expect"].get("shadow", [])
        )
        quiet |= set(scenario["expect"].get("absent", []))
    codes = {rule.code for rule in load_pack("retail").rules.rules}  # retail extends starter
    assert len(codes) >= 60
    assert not codes - fires, f"rules with no firing scenario: {sorted(codes - fires)}"
    assert not codes - quiet, f"rules with no quiet scenario: {sorted(codes - quiet)}"
