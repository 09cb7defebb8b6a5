"""The ruleset trail in PostgreSQL, shared by every worker of a deployment
(``decision_log: postgres``): the same versions, changes and chain as rules/versions.py.

A change holds ``ruleset_changes`` exclusively while it appends (ids run 1, 2, 3 with no
gap, as the chain walk wants, whichever worker writes), seals the new head in the same
transaction, bumps the revision and NOTIFYs ``rulesets:<action>:<number>``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from shopguard.registries.postgres import Registry, Where
from shopguard.rules.trail import (
    Change,
    Rollout,
    Standing,
    Version,
    audited,
    content,
    fold,
    planned,
)
from shopguard.state.audit import GENESIS, Head
from shopguard.state.chain import ChainReport, link

CHAIN = "ruleset_changes"
STEPS = (
    "CREATE TABLE ruleset_versions(number BIGINT PRIMARY KEY, digest TEXT NOT NULL,"
    " text TEXT NOT NULL, note TEXT NOT NULL, author TEXT NOT NULL,"
    " at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE ruleset_changes(id BIGINT PRIMARY KEY, action TEXT NOT NULL, number BIGINT,"
    " actor TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, digest TEXT NOT NULL,"
    " content BYTEA NOT NULL, chain BYTEA NOT NULL)",
)


class PgRulesets:
    """The ruleset trail in ``<postgres_schema>.ruleset_versions`` / ``ruleset_changes``."""

    def __init__(self, where: Where, key: bytes = b"", clock: Callable[[], float] = time.time):
        self._pg = Registry(where, "rulesets", STEPS, key)
        self._clock = clock

    # -- reading ------------------------------------------------------------------------
    def versions(self) -> list[Version]:
        rows = self._pg.rows(
            "SELECT number, digest, note, author, at FROM ruleset_versions ORDER BY 1"
        )
        return [Version(*row) for row in rows]

    def version(self, number: int) -> Version | None:
        row = self._pg.one(
            "SELECT number, digest, note, author, at, text FROM ruleset_versions WHERE number = %s",
            (number,),
        )
        return None if row is None else Version(*row)

    def changes(self) -> list[Change]:
        rows = self._pg.rows(
            "SELECT id, action, number, actor, at,"
            " CASE action WHEN 'rollout' THEN digest ELSE '' END FROM ruleset_changes ORDER BY id"
        )
        return [Change(*row) for row in rows]

    def standing(self) -> Standing:
        return fold(self.changes())

    def revision(self) -> int:
        return self._pg.revision()

    # -- changing -----------------------------------------------------------------------
    def upload(self, text: str, author: str, note: str = "") -> Version:
        """Store a new version (the caller has compiled it against the pack first)."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        at = self._clock()
        with self._pg.change("upload", lock=CHAIN) as db:
            row = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM ruleset_versions")
            number = int(row.fetchone()[0])  # type: ignore[index]
            db.execute(
                "INSERT INTO ruleset_versions VALUES (%s, %s, %s, %s, %s, %s)",
                (number, digest, text, note, author, at),
            )
            self._record("upload", number, author, at, digest)
        return Version(number, digest, note, author, at, text)

    def change(
        self, action: str, actor: str, number: int | None = None, rollout: Rollout | None = None
    ) -> Standing:
        """Publish, shadow or roll out a version (``rollout``: its terms); promote the
        challenger; roll back; unshadow. Checked and appended under the chain's lock, so
        two workers changing at once each see the other's change."""
        with self._pg.change(f"{action}:{number if number is not None else ''}", lock=CHAIN):
            number, terms = planned(
                action, number, rollout, self.standing(), lambda n: self.version(n) is not None
            )
            # a rollout's terms take the digest's place: chained like an upload's digest
            self._record(action, number, actor, self._clock(), terms)
        return self.standing()

    def _newest(self) -> Head:
        row = self._pg.one("SELECT id, chain FROM ruleset_changes ORDER BY id DESC LIMIT 1")
        return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))

    def _record(self, action: str, number: int | None, actor: str, at: float, digest: str) -> None:
        position, previous = self._newest()
        recorded = content(action, number, actor, at, digest)
        chain = link(previous, recorded)
        self._pg.db.execute(
            "INSERT INTO ruleset_changes VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (position + 1, action, number, actor, at, digest, recorded, chain),
        )
        self._pg.seal(CHAIN, (position + 1, chain))

    def verify(self) -> ChainReport:
        """Recompute the trail's chain and check its sealed head (as the SQLite one)."""
        with self._pg.snapshot():  # one moment for all three reads
            versions = self._pg.rows(
                "SELECT number, digest, text, author, at FROM ruleset_versions"
            )
            changes = self._pg.rows(
                "SELECT id, action, number, actor, at, digest, content, chain"
                " FROM ruleset_changes ORDER BY id"
            )
            report = audited(versions, changes)
            if report.ok:
                report.problem = self._pg.sealed(CHAIN, self._newest())
        return report

    def close(self) -> None:
        self._pg.close()
