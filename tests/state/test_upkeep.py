"""Search, retention and erasure: the same contract on every decision log."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from shopguard.decision import Decision
from shopguard.engine import Engine
from shopguard.state.search import DecisionQuery, matches
from tests.conftest import event, make_engine

DAY = 86400.0


def _engine(backend: str, tmp_path: Path, **settings: Any) -> Engine:
    if backend == "sqlite":
        settings.update(decision_log="sqlite", data_dir=str(tmp_path))
    return make_engine(dedupe_window="400d", **settings)


def _traffic(engine: Engine, days: int = 1) -> list[tuple[Decision, dict[str, Any]]]:
    """SMS codes from a few phones and devices: bursts make rules fire, singles do not."""
    seen = []
    for i in range(60):
        at = (i // 10) * (days * DAY / 6) + (i % 10) * 5.0
        fields = {"phone": f"1380000{i % 3:04d}", "device": {"id": f"dev-{i % 4}"}}
        fields["ip"] = f"10.0.{i % 5}.1"
        raw = event("sms.send", f"s{i}", at, **fields)
        decision = engine.decide(raw)
        facts, _ = engine.desensitize(engine_event(raw))
        seen.append((decision, facts))
    return seen


def engine_event(raw: dict[str, Any]) -> Any:
    from shopguard.events import decode_event

    return decode_event(raw)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_search_agrees_with_the_query_as_a_predicate(backend: str, tmp_path: Path) -> None:
    engine = _engine(backend, tmp_path)
    seen = _traffic(engine)
    fired = {r.rule for d, _ in seen for r in d.reasons}
    assert fired, "the traffic should make some rule fire"
    device = seen[0][1]["device"]
    queries = [
        DecisionQuery(tenant="shop"),
        DecisionQuery(tenant="shop", outcome="allow"),
        DecisionQuery(tenant="shop", rule=sorted(fired)[0]),
        DecisionQuery(tenant="shop", entity=f"device:{device}"),
        DecisionQuery(tenant="shop", entity=f"device:{device}", outcome="allow"),
        DecisionQuery(tenant="shop", since=seen[20][0].time, until=seen[40][0].time),
        DecisionQuery(tenant="other"),
    ]
    for query in queries:
        expected = [d.event_id for d, f in reversed(seen) if matches(query, d, f)]
        got, before = [], None
        while True:  # page through, 7 at a time
            page = engine.search(DecisionQuery(**{**_fields(query), "limit": 7, "before": before}))
            got += [d.event_id for d in page.decisions]
            if page.next_before is None:
                break
            before = page.next_before
        assert got == expected, query


def _fields(query: DecisionQuery) -> dict[str, Any]:
    return {f: getattr(query, f) for f in query.__struct_fields__}


def test_retention_thins_then_deletes_and_the_chain_still_verifies(tmp_path: Path) -> None:
    engine = _engine("sqlite", tmp_path, retention="90d", retention_quiet="30d")
    seen = _traffic(engine, days=180)
    rows, _ = engine.log.size()
    start = seen[0][0].time
    counts = engine.compact(now=start + 180 * DAY)
    old = [d for d, _ in seen if d.time < start + 90 * DAY]
    quiet = [d for d, _ in seen if start + 90 * DAY <= d.time < start + 150 * DAY and not d.reasons]
    assert counts == {"deleted": len(old), "thinned": len(quiet)}
    assert engine.log.size()[0] == rows - len(old)
    assert all(r.ok for r in engine.log.verify())  # type: ignore[attr-defined]
    assert engine.find("shop", old[0].event_id) is None
    if quiet:
        found = engine.search(DecisionQuery(tenant="shop", outcome="allow"))
        assert quiet[0].event_id not in {d.event_id for d in found.decisions}
    engine.close()
    again = _engine("sqlite", tmp_path, retention="90d", retention_quiet="30d")
    assert again.decide(event("sms.send", "late", 181 * DAY, phone="13800000001")).outcome
    again.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_erasure_removes_an_entity_everywhere(backend: str, tmp_path: Path) -> None:
    engine = _engine(backend, tmp_path)
    seen = _traffic(engine)
    phone = seen[0][1]["phone"]
    engine.list_add("deny", "phone", phone, tenant="shop", raw=False, reason="fraud")
    case = {"tenant": "shop", "kind": "fraud", "entity_kind": "phone", "entity": phone}
    known = max(d.time for d, _ in seen) + 60  # dated within the traffic, as live it would be
    engine.label({**case, "known_at": known}, raw_entity=False)
    mine = [d for d, f in seen if f.get("phone") == phone]
    counts = engine.erase("shop", "phone", phone)
    # its decisions, and the case.label the entity label fed into its features
    assert counts["decisions"] == len(mine) + 1 and counts["labels"] == 1
    assert counts["list_entries"] == 1 and counts["state"] >= 1
    assert engine.search(DecisionQuery(tenant="shop", entity=f"phone:{phone}")).decisions == []
    assert all(
        not d.display
        for d in engine.search(DecisionQuery(tenant="shop")).decisions
        if d.event_id in {m.event_id for m in mine}
    )
    assert list(engine.lists.entries(tenant="shop")) == []
    if backend == "sqlite":
        assert all(r.ok for r in engine.log.verify())  # type: ignore[attr-defined]
        engine.close()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("decisions.db*"))
        assert phone.encode() not in raw
        db = sqlite3.connect(tmp_path / "decisions.db")
        assert db.execute("SELECT COUNT(*) FROM decisions WHERE redacted = 1").fetchone()[0]
        restarted = _engine(backend, tmp_path)
        assert list(restarted.lists.entries(tenant="shop")) == []
        restarted.close()
