"""Ruleset versions and their audit trail: upload, validate, publish, roll back, run in
shadow, promote.

A version is a whole rules.yaml for the running pack, checked before it is stored. What
runs is folded from the trail of changes: ``publish`` / ``rollback`` / ``promote`` set the
champion, ``shadow`` sets a challenger (evaluated beside the champion, recorded, never
enforced), ``rollout`` sets a challenger that decides a stable share of traffic (its terms,
percent and entity, are the change's ``terms``), ``unshadow`` drops it; ``promote`` and
``rollback`` end a rollout. Every change carries who, when, and a hash chained to
the one before (as the journal does), so ``shopguard audit verify`` finds any edit.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from shopguard.errors import ConfigError
from shopguard.rules.ruleset import RuleSet
from shopguard.rules.trail import (
    ACTIONS,
    ROLLOUT_ENTITIES,
    Change,
    Rollout,
    Rulesets,
    Standing,
    Version,
    audited,
    content,
    fold,
    planned,
)
from shopguard.state.audit import Heads, head_file, verify_seal
from shopguard.state.chain import GENESIS, ChainReport, link

if TYPE_CHECKING:
    from shopguard.config import Pack

__all__ = [
    "ACTIONS",
    "ROLLOUT_ENTITIES",
    "Change",
    "Lineup",
    "Rollout",
    "RulesetStore",
    "Rulesets",
    "Standing",
    "Version",
    "chosen",
    "compile_running",
    "running",
]
_log = logging.getLogger("shopguard.rules")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions(number INTEGER PRIMARY KEY, digest TEXT NOT NULL,
  text TEXT NOT NULL, note TEXT NOT NULL, author TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS changes(id INTEGER PRIMARY KEY, action TEXT NOT NULL,
  number INTEGER, actor TEXT NOT NULL, at REAL NOT NULL, digest TEXT NOT NULL,
  content BLOB NOT NULL, chain BLOB NOT NULL);
"""


class RulesetStore:
    """The trail in one SQLite file (``rulesets.db``), its head sealed beside it."""

    def __init__(self, path: str | Path, clock: object = time.time) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._clock = clock if callable(clock) else time.time
        self._path = path
        self._heads = head_file(path)  # rulesets.db.head, sealed with data_dir's audit.key

    def _newest(self) -> Heads:
        row = self._db.execute("SELECT id, chain FROM changes ORDER BY id DESC LIMIT 1").fetchone()
        return {"ruleset_changes": (0, GENESIS) if row is None else (row[0], bytes(row[1]))}

    def _commit(self, confirmed: Heads) -> None:
        """Seal the trail's new head (before the commit: state/audit.py), then commit."""
        pending = self._newest()
        if self._heads is not None:
            self._heads.advance(confirmed, pending)
        self._db.execute("COMMIT")
        if self._heads is not None:
            self._heads.confirm(pending)

    # -- reading ------------------------------------------------------------------------
    def versions(self) -> list[Version]:
        rows = self._db.execute("SELECT number, digest, note, author, at FROM versions ORDER BY 1")
        return [Version(*row) for row in rows]

    def version(self, number: int) -> Version | None:
        row = self._db.execute("SELECT * FROM versions WHERE number = ?", (number,)).fetchone()
        return None if row is None else Version(row[0], row[1], row[3], row[4], row[5], row[2])

    def changes(self) -> list[Change]:
        rows = self._db.execute(
            "SELECT id, action, number, actor, at,"
            " CASE action WHEN 'rollout' THEN digest ELSE '' END FROM changes ORDER BY id"
        )
        return [Change(*row) for row in rows]

    def standing(self) -> Standing:
        return fold(self.changes())

    def revision(self) -> int:
        """The newest change's id: it moves with every change, any process's."""
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()
        return int(row[0])

    # -- changing -----------------------------------------------------------------------
    def upload(self, text: str, author: str, note: str = "") -> Version:
        """Store a new version (the caller has compiled it against the pack first)."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        at = self._clock()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            confirmed = self._newest()
            cursor = self._db.execute(
                "INSERT INTO versions(digest, text, note, author, at) VALUES (?,?,?,?,?)",
                (digest, text, note, author, at),
            )
            number = int(cursor.lastrowid or 0)
            self._record("upload", number, author, at, digest)
            self._commit(confirmed)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return Version(number, digest, note, author, at, text)

    def change(
        self, action: str, actor: str, number: int | None = None, rollout: Rollout | None = None
    ) -> Standing:
        """Publish, shadow or roll out a version (``rollout``: its terms); promote the
        challenger; roll back; unshadow."""
        number, terms = planned(
            action, number, rollout, self.standing(), lambda n: self.version(n) is not None
        )
        self._db.execute("BEGIN IMMEDIATE")
        try:
            confirmed = self._newest()
            # a rollout's terms take the digest's place: chained like an upload's digest
            self._record(action, number, actor, self._clock(), terms)
            self._commit(confirmed)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return self.standing()

    def _record(self, action: str, number: int | None, actor: str, at: float, digest: str) -> None:
        row = self._db.execute("SELECT chain FROM changes ORDER BY id DESC LIMIT 1").fetchone()
        previous = GENESIS if row is None else bytes(row[0])
        recorded = content(action, number, actor, at, digest)
        self._db.execute(
            "INSERT INTO changes(action, number, actor, at, digest, content, chain)"
            " VALUES (?,?,?,?,?,?,?)",
            (action, number, actor, at, digest, recorded, link(previous, recorded)),
        )

    def verify(self) -> ChainReport:
        """Recompute the trail's chain and check its sealed head; an upload's digest must
        still match its text, and every version must have its upload."""
        versions = self._db.execute("SELECT number, digest, text, author, at FROM versions")
        changes = self._db.execute(
            "SELECT id, action, number, actor, at, digest, content, chain FROM changes ORDER BY id"
        )
        report = audited(versions.fetchall(), changes)
        if report.ok and self._heads is not None:
            sealed = verify_seal(self._path, self._newest())
            report.problem = sealed.get("ruleset_changes") or sealed.get("heads", "")
        return report

    def close(self) -> None:
        if self._heads is not None:
            self._heads.close()
        self._db.close()


class Lineup(NamedTuple):
    """The rule sets that run, and the share of traffic the challenger decides."""

    champion: RuleSet
    challenger: RuleSet | None
    rollout: Rollout | None


def running(pack: Pack, store: Rulesets) -> Lineup:
    """What the trail says runs (the pack's own rules while nothing was published)."""
    return compile_running(pack, *chosen(store))


def chosen(store: Rulesets) -> tuple[Version | None, Version | None, Rollout | None]:
    """The champion and challenger versions the trail names, and the rollout's terms
    (reads only: a server runs this on its event loop and compiles in a worker thread)."""
    standing = store.standing()
    champion = store.version(standing.champion) if standing.champion is not None else None
    challenger = store.version(standing.challenger) if standing.challenger else None
    return champion, challenger, standing.rollout


def compile_running(
    pack: Pack,
    champion: Version | None,
    challenger: Version | None,
    rollout: Rollout | None = None,
) -> Lineup:
    """Compile what runs. A version stored before a check it now fails (a NaN score...)
    is logged and passed over, so the server still starts: the champion falls back to the
    pack's own rules, the challenger to none (and its rollout with it)."""
    candidate = _compiled(pack, challenger) if challenger is not None else None
    return Lineup(
        _compiled(pack, champion) or pack.rules,
        candidate,
        rollout if candidate is not None and rollout is not None and rollout.percent else None,
    )


def _compiled(pack: Pack, version: Version | None) -> RuleSet | None:
    if version is None:
        return None
    try:
        return pack.compile_rules(version.text, version.name)
    except ConfigError as exc:
        _log.error("ruleset %s no longer passes validation, not run: %s", version.name, exc)
        return None
