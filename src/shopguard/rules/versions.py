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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from shopguard.errors import ConfigError
from shopguard.rules.ruleset import RuleSet
from shopguard.state.audit import Heads, head_file, verify_seal
from shopguard.state.chain import GENESIS, ChainReport, Row, link, walk

if TYPE_CHECKING:
    from shopguard.config import Pack

_log = logging.getLogger("shopguard.rules")
ACTIONS = ("upload", "publish", "rollback", "shadow", "unshadow", "promote", "rollout")
ROLLOUT_ENTITIES = ("account", "device", "ip")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions(number INTEGER PRIMARY KEY, digest TEXT NOT NULL,
  text TEXT NOT NULL, note TEXT NOT NULL, author TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS changes(id INTEGER PRIMARY KEY, action TEXT NOT NULL,
  number INTEGER, actor TEXT NOT NULL, at REAL NOT NULL, digest TEXT NOT NULL,
  content BLOB NOT NULL, chain BLOB NOT NULL);
"""


class Version(msgspec.Struct, frozen=True):
    number: int
    digest: str  # SHA-256 of the text
    note: str
    author: str
    at: float
    text: str = ""

    @property
    def name(self) -> str:
        return f"r{self.number}+{self.digest[:10]}"


class Change(msgspec.Struct, frozen=True):
    id: int
    action: str
    number: int | None
    actor: str
    at: float
    terms: str = ""  # a rollout's: {"percent": 10.0, "by": "account"}


class Rollout(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The challenger decides this share of traffic, bucketed by a keyed hash of
    ``by`` (an event without it falls back to account, device, then ip)."""

    percent: float
    by: str = "account"

    def checked(self) -> Rollout:
        if not 0 <= self.percent <= 100:
            raise ConfigError(f"rollout percent {self.percent:g}: 0 to 100")
        if self.by not in ROLLOUT_ENTITIES:
            raise ConfigError(f"rollout by {self.by!r}: one of {', '.join(ROLLOUT_ENTITIES)}")
        return self


class Standing(msgspec.Struct, frozen=True):
    """What runs: the champion (None: the pack's own rules), the challenger, and the
    share of traffic the challenger decides (None: shadow only)."""

    champion: int | None = None
    challenger: int | None = None
    previous: list[int] = []  # earlier champions, newest last: where rollback goes
    rollout: Rollout | None = None


def _content(action: str, number: int | None, actor: str, at: float, digest: str) -> bytes:
    text = f"{action}\x1f{number}\x1f{actor}\x1f{at!r}\x1f{digest}"
    return hashlib.sha256(text.encode()).digest()


class RulesetStore:
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
        champion: int | None = None
        challenger: int | None = None
        previous: list[int] = []
        rollout: Rollout | None = None
        for change in self.changes():
            n = change.number
            if change.action in ("publish", "promote") and n is not None:
                if champion is not None:
                    previous.append(champion)
                champion = n
                if challenger == n or change.action == "promote":
                    challenger, rollout = None, None
            elif change.action == "rollback":
                champion = previous.pop() if previous else None
                rollout = None  # back to known ground: the challenger stays, in shadow only
            elif change.action in ("shadow", "rollout"):
                challenger = n
                rollout = msgspec.json.decode(change.terms, type=Rollout) if change.terms else None
            elif change.action == "unshadow":
                challenger, rollout = None, None
        return Standing(champion, challenger, previous, rollout)

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
        standing = self.standing()
        terms = ""
        if action == "rollout":
            if rollout is None:
                raise ConfigError("a rollout needs its terms: percent and entity")
            terms = msgspec.json.encode(rollout.checked()).decode()
        if action in ("publish", "shadow", "rollout"):
            if number is None or self.version(number) is None:
                raise ConfigError(f"no ruleset version {number}")
        elif action == "promote":
            if standing.challenger is None:
                raise ConfigError("no challenger in shadow to promote")
            number = standing.challenger
        elif action == "rollback":
            if standing.champion is None:
                raise ConfigError("nothing to roll back: the pack's own rules are running")
            number = standing.previous[-1] if standing.previous else None
        elif action != "unshadow":
            raise ConfigError(f"unknown ruleset action {action!r}; one of {', '.join(ACTIONS)}")
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
        content = _content(action, number, actor, at, digest)
        self._db.execute(
            "INSERT INTO changes(action, number, actor, at, digest, content, chain)"
            " VALUES (?,?,?,?,?,?,?)",
            (action, number, actor, at, digest, content, link(previous, content)),
        )

    def verify(self) -> ChainReport:
        """Recompute the trail's chain and check its sealed head; an upload's digest must
        still match its text, and every version must have its upload."""
        versions = {
            n: (digest, hashlib.sha256(text.encode()).hexdigest(), author, at)
            for n, digest, text, author, at in self._db.execute(
                "SELECT number, digest, text, author, at FROM versions"
            )
        }
        uploaded: set[int] = set()
        rows = self._db.execute(
            "SELECT id, action, number, actor, at, digest, content, chain FROM changes ORDER BY id"
        )

        def checked() -> Iterator[Row]:
            for cid, action, number, actor, at, digest, content, chain in rows:
                edited = _content(action, number, actor, at, digest) != bytes(content)
                if action == "upload":
                    edited |= versions.get(number) != (digest, digest, actor, at)
                    uploaded.add(number)
                yield cid, content, chain, "record edited" if edited else ""

        report = walk("ruleset_changes", checked())
        if report.ok and set(versions) - uploaded:
            report.problem, report.at = "version inserted", min(set(versions) - uploaded)
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


def running(pack: Pack, store: RulesetStore) -> Lineup:
    """What the trail says runs (the pack's own rules while nothing was published)."""
    return compile_running(pack, *chosen(store))


def chosen(store: RulesetStore) -> tuple[Version | None, Version | None, Rollout | None]:
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
