"""A backtest: history through one engine deciding with the champion, the candidate
beside it as the challenger, on the live code path (only the source and the clock differ).

Open loop (the default): the candidate's effects are not applied (the list entries its
rules would add, the decisions it would journal), so every later event sees the
champion's lists and state. Where the candidate denies an account the champion let
through, reality would have listed it and decided its later events differently: the
report says so. Closed loop (``closed_loop``): two engines, each applying its own
effects, twice the work.

Two sources: a file (JSONL, or CSV through a mapping; label columns ride along), or a
data directory's journal, whose desensitized facts go through the same engine from the
decision after ``desensitize`` on; its labels (fraud, chargeback...) mark the frauds.
The journal's facts are replayed from its first record, so feature windows in the
window asked for are as they were; only decisions in the window are compared.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec

from shopguard.backtest.compare import Comparison
from shopguard.config import Pack
from shopguard.decision import Decision
from shopguard.engine import Engine, RawEvent
from shopguard.errors import ConfigError
from shopguard.labels import LOSS_KINDS
from shopguard.rules.ruleset import RuleSet
from shopguard.rules.versions import Rulesets
from shopguard.settings import Settings

OPEN_LOOP = (
    "open loop: the candidate's own effects (list entries its rules would add) are not"
    " applied, so later events see the champion's lists; a candidate that lists more"
    " would in reality change more later decisions than counted here"
)
CLOSED_LOOP = (
    "closed loop: the champion and the candidate each decided on an engine of their own,"
    " applying their own list effects"
)
LABEL_COLUMNS = ("label", "is_fraud", "fraud", "class", "Class", "TX_FRAUD", "isFraud")
POSITIVE = frozenset({"1", "1.0", "true", "yes", "y", "fraud"})
_facts = msgspec.msgpack.Decoder(dict[str, Any])
Advance = Callable[[int], object]


def candidate_rules(pack: Pack, source: str, store: Rulesets | None) -> RuleSet:
    """The candidate: a stored version's number, a pack directory (its rules.yaml) or a
    rules file, compiled against the running pack (a ConfigError names the rule)."""
    if source.isdecimal() and len(source) <= 18:
        version = store.version(int(source)) if store is not None else None
        if version is None:
            raise ConfigError(f"no ruleset version {source} in this data directory")
        return pack.compile_rules(version.text, version.name)
    path = Path(source)
    if path.is_dir():
        path = path / "rules.yaml"
    if not path.is_file():
        raise ConfigError(f"candidate {source}: not a version number, pack directory or file")
    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return pack.compile_rules(text, f"{path.parent.name or 'file'}/{path.name}+{digest}")


def backtest_engine(
    settings: Settings, pack: Pack, champion: RuleSet, candidate: RuleSet | None
) -> Engine:
    """An engine on memory alone (nothing of the data directory is written), deciding with
    the champion, the candidate (if any) as its challenger."""
    memory = msgspec.structs.replace(settings, decision_log="memory", state_store="memory")
    engine = Engine(pack, memory)
    engine.use_rules(champion, candidate)
    return engine


def closed_loop(
    settings: Settings, pack: Pack, champion: RuleSet, candidate: RuleSet
) -> tuple[Engine, Engine]:
    """Two engines, the champion's and the candidate's, each applying its own effects
    (twice the work: the candidate's list entries decide its later events)."""
    ours = backtest_engine(settings, pack, champion, None)
    theirs = backtest_engine(settings, pack, candidate, None)
    theirs.desensitize = ours.desensitize  # one key ring: both see the same pseudonyms
    return ours, theirs


def _comparison(engine: Engine, rival: Engine | None) -> Comparison:
    if rival is not None:
        return Comparison(engine.rules.version, rival.rules.version, loop="closed")
    assert engine.challenger is not None
    return Comparison(engine.rules.version, engine.challenger.version)


def is_fraud(tags: dict[str, str], column: str | None) -> bool | None:
    """A file's label: ``column``'s value, else the first usual label column present."""
    names = (column,) if column else LABEL_COLUMNS
    for name in names:
        value = tags.get(name) if name else None
        if value is not None:
            return value.strip().lower() in POSITIVE
    if column:
        raise ConfigError(f"label column {column!r} is not among the events' labels")
    return None


def over_file(
    engine: Engine,
    stream: Iterable[tuple[RawEvent, dict[str, str]]],
    label: str | None = None,
    advance: Advance | None = None,
    batch: int = 512,
    rival: Engine | None = None,
) -> Comparison:
    """Decide every event of a file's stream and fold what changes; ``rival``: the
    candidate's own engine (closed loop), else ``engine``'s challenger (open loop)."""
    comparison = _comparison(engine, rival)
    items = iter(stream)
    while chunk := list(islice(items, batch)):
        events = [event for event, _ in chunk]
        decisions = engine.decide_many(events)
        theirs = rival.decide_many(events) if rival is not None else decisions
        for decision, other, (_, tags) in zip(decisions, theirs, chunk, strict=True):
            _tally(
                comparison,
                decision,
                other if rival is not None else None,
                is_fraud(tags, label) if tags else None,
            )
        if advance is not None:
            advance(len(chunk))
    return comparison


def journal_size(path: Path, until: float | None = None, start: float | None = None) -> int:
    """Journal records from ``start`` to ``until`` (what ``over_journal`` re-decides)."""
    with closing(_read_only(path)) as db:
        row = db.execute(
            "SELECT count(*) FROM decisions WHERE redacted != 2 AND time BETWEEN ? AND ?",
            _span(start, until),
        ).fetchone()
    return int(row[0])


def newest_time(path: Path) -> float | None:
    with closing(_read_only(path)) as db:
        row = db.execute("SELECT max(time) FROM decisions WHERE redacted != 2").fetchone()
    return None if row[0] is None else float(row[0])


def _span(start: float | None, until: float | None) -> tuple[float, float]:
    return (
        start if start is not None else float("-inf"),
        until if until is not None else float("inf"),
    )


def over_journal(
    engine: Engine,
    path: Path,
    since: float | None = None,
    until: float | None = None,
    advance: Advance | None = None,
    limit: int | None = None,
    start: float | None = None,
    rival: Engine | None = None,
) -> Comparison:
    """Re-decide a journal's facts from its first record (or ``start``: a warm-up before
    the window) up to ``until``; compare those from ``since`` on (at most ``limit`` of
    them). Journal labels mark the frauds; events without one count as honest.
    ``rival``: as for ``over_file``."""
    comparison = _comparison(engine, rival)
    frauds = _frauds(path)
    compared = 0
    for chunk in _chunked(_journal_facts(path, start, until), 512):
        decisions = [_judged(engine, facts) for facts in chunk]
        theirs = [_judged(rival, facts) for facts in chunk] if rival is not None else decisions
        for decision, other in zip(decisions, theirs, strict=True):
            if since is not None and decision.time < since:
                continue
            if limit is not None and compared >= limit:
                return comparison
            compared += 1
            key = (decision.tenant, decision.event_id)
            _tally(
                comparison,
                decision,
                other if rival is not None else None,
                key in frauds if frauds else None,
            )
        if advance is not None:
            advance(len(chunk))
    return comparison


def _judged(engine: Engine, facts: dict[str, Any]) -> Decision:
    """The engine's pipeline after desensitize (the journal holds only pseudonyms; the
    memory log commits nothing, so no batch is opened)."""
    key = f"{facts['tenant']}\x1f{facts['event_id']}"
    return engine._judge(dict(facts), {}, key, time.perf_counter_ns())


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise ConfigError(f"no journal at {path}: point --data-dir at a ShopGuard data directory")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _journal_facts(
    path: Path, start: float | None, until: float | None
) -> Iterator[dict[str, Any]]:
    db = _read_only(path)
    try:
        rows = db.execute(
            "SELECT facts FROM decisions WHERE redacted != 2 AND time BETWEEN ? AND ? ORDER BY seq",
            _span(start, until),
        )
        for (facts,) in rows:
            yield _facts.decode(facts)
    finally:
        db.close()


def _frauds(path: Path) -> set[tuple[str, str]]:
    kinds = sorted(LOSS_KINDS)
    with closing(_read_only(path)) as db:
        rows = db.execute(
            "SELECT tenant, event_id FROM labels WHERE redacted = 0 AND event_id IS NOT NULL"
            f" AND kind IN ({','.join('?' * len(kinds))})",
            kinds,
        )
        return {(tenant, event_id) for tenant, event_id in rows}


def _chunked(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _tally(
    comparison: Comparison, decision: Decision, rival: Decision | None, fraud: bool | None
) -> None:
    """One event into the comparison: open loop (the candidate ran as challenger inside
    ``decision``), or closed loop beside the ``rival`` engine's own decision."""
    if rival is not None:
        comparison.add_pair(decision, rival, fraud)
    else:
        comparison.add(decision, fraud)
