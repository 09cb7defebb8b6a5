"""The console's queries (``ConsoleQueries``) over the SQLite journal and its term index."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, cast

from shopguard.console.queries import Held, HeldRow, Linked, held_of, linked_of
from shopguard.decision import Decision, decision_decoder
from shopguard.state.housekeeping import bucket, search, term_seqs
from shopguard.state.search import DecisionQuery, Found


class SqliteConsoleQueries:
    """``reader`` returns the journal's connection with everything staged committed;
    ``held_bound``: the most open review events read per tenant."""

    def __init__(self, reader: Callable[[], sqlite3.Connection], held_bound: int) -> None:
        self._reader = reader
        self.held_bound = held_bound

    def newest_time(self, tenant: str) -> float | None:
        db = self._reader()
        row = db.execute("SELECT MAX(time) FROM decisions WHERE tenant = ?", (tenant,)).fetchone()
        return None if row[0] is None else float(row[0])

    def per_minute(self, tenant: str, since: float) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        rows = self._reader().execute(
            "SELECT CAST(time / 60 AS INTEGER), outcome, COUNT(*) FROM decisions"
            " WHERE tenant = ? AND time >= ? GROUP BY 1, 2",
            (tenant, since),
        )
        for minute, outcome, n in rows:
            out.setdefault(minute, [0, 0, 0, 0])[outcome] = n
        return out

    def top_terms(
        self, tenant: str, prefix: str, since: float, min_outcome: int = 0
    ) -> list[tuple[str, int]]:
        db = self._reader()
        row = db.execute(
            "SELECT MIN(seq) FROM decisions WHERE tenant = ? AND time >= ?", (tenant, since)
        ).fetchone()
        if row[0] is None:
            return []
        return _top_terms(db, tenant, prefix, int(row[0]), min_outcome)

    def shadow_hits(self, last: int) -> list[tuple[str, int]]:
        db = self._reader()
        newest = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()[0])
        return _top_terms(db, None, "shadow:", newest - last)

    def held(self, tenant: str) -> Held:
        # decisions_held (state/housekeeping.py) holds only this tenant's held rows:
        # the bound counts open cases of this tenant, not anybody's traffic
        rows = (
            self._reader()
            .execute(
                "SELECT d.seq, d.event_id, d.time, d.outcome, d.facts, d.decision"
                " FROM decisions d WHERE d.tenant = ? AND d.outcome IN (1, 2) AND d.redacted = 0"
                " AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.tenant = d.tenant"
                " AND l.event_id = d.event_id) ORDER BY d.seq DESC LIMIT ?",
                (tenant, self.held_bound + 1),
            )
            .fetchall()
        )
        return held_of(cast(list[HeldRow], rows), self.held_bound)

    def decisions(self, tenant: str, seqs: list[int]) -> dict[int, Decision]:
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        rows = self._reader().execute(
            f"SELECT seq, decision FROM decisions WHERE tenant = ? AND seq IN ({marks})"
            " AND redacted != 2",
            (tenant, *seqs),
        )
        return {int(seq): decision_decoder.decode(raw) for seq, raw in rows}

    def timeline(
        self, tenant: str, entity: str, before: int | None = None, limit: int = 20
    ) -> Found:
        q = DecisionQuery(tenant=tenant, entity=entity, before=before, limit=limit)
        return search(self._reader(), q)

    def rule_hits(
        self, tenant: str, rule: str, before: int | None = None, limit: int = 20
    ) -> Found:
        q = DecisionQuery(tenant=tenant, rule=rule, before=before, limit=limit)
        return search(self._reader(), q)

    def linked(self, tenant: str, entity: str, scan: int = 1000) -> list[Linked]:
        db = self._reader()
        top = int(db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM decisions").fetchone()[0])
        seqs = []
        for seq in term_seqs(db, tenant, entity, top):
            seqs.append(seq)
            if len(seqs) >= scan:
                break
        rows: list[tuple[float, bytes, bytes]] = []
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT time, facts, decision FROM decisions WHERE tenant = ?"
                f" AND seq IN ({marks}) AND redacted != 2",
                (tenant, *chunk),
            ).fetchall()
        return linked_of(rows, entity)


def _top_terms(
    db: sqlite3.Connection, tenant: str | None, prefix: str, since_seq: int, min_outcome: int = 0
) -> list[tuple[str, int]]:
    """The most frequent index terms under ``prefix`` in the decisions from ``since_seq``."""
    where = "t.bucket >= ? AND t.seq >= ? AND t.term >= ? AND t.term < ? AND d.outcome >= ?"
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    params: list[Any] = [bucket(since_seq), since_seq, prefix, end, min_outcome]
    if tenant is not None:
        where += " AND t.tenant = ?"
        params.append(tenant)
    rows = db.execute(
        "SELECT t.term, COUNT(*) FROM decision_terms t JOIN decisions d"
        f" ON d.seq = t.seq WHERE {where} GROUP BY t.term ORDER BY 2 DESC LIMIT 10",
        params,
    )
    return [(term[len(prefix) :], n) for term, n in rows]
