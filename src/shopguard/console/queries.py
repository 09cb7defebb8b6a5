"""What the console's pages read from the SQLite journal, per tenant, in SQL."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from shopguard.decision import Decision, decision_decoder
from shopguard.state.housekeeping import BUCKET_BITS, bucket

OUTCOMES = ("allow", "review", "challenge", "deny")


class Case(msgspec.Struct):
    """Undecided review/challenge decisions of one entity, newest first."""

    entity: str  # kind:pseudonym
    events: list[str]
    latest: Decision


def newest_time(db: sqlite3.Connection, tenant: str) -> float | None:
    row = db.execute("SELECT MAX(time) FROM decisions WHERE tenant = ?", (tenant,)).fetchone()
    return None if row[0] is None else float(row[0])


def per_minute(db: sqlite3.Connection, tenant: str, since: float) -> dict[int, list[int]]:
    """Minute (epoch // 60) -> decisions by outcome, from ``since`` (event time)."""
    out: dict[int, list[int]] = {}
    rows = db.execute(
        "SELECT CAST(time / 60 AS INTEGER), outcome, COUNT(*) FROM decisions"
        " WHERE tenant = ? AND time >= ? GROUP BY 1, 2",
        (tenant, since),
    )
    for minute, outcome, n in rows:
        out.setdefault(minute, [0, 0, 0, 0])[outcome] = n
    return out


def first_seq(db: sqlite3.Connection, tenant: str, since: float) -> int:
    """The oldest seq of this tenant's decisions from ``since`` on (event time)."""
    row = db.execute(
        "SELECT MIN(seq) FROM decisions WHERE tenant = ? AND time >= ?", (tenant, since)
    ).fetchone()
    return int(row[0]) if row[0] is not None else 1 << 62


def top_terms(
    db: sqlite3.Connection, tenant: str | None, prefix: str, since_seq: int, min_outcome: int = 0
) -> list[tuple[str, int]]:
    """The most frequent index terms under ``prefix`` (rule:, shadow:, campaign:) in the
    decisions from ``since_seq`` on."""
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


def review_queue(db: sqlite3.Connection, tenant: str, limit: int = 50) -> list[Case]:
    """Reviewed or challenged decisions among the newest 100,000 that nobody has
    labelled yet, grouped by account."""
    newest = db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()[0]
    rows = db.execute(
        f"""
        SELECT t.term, GROUP_CONCAT(d.event_id, ' '), MAX(d.seq) FROM decisions d
        JOIN decision_terms t ON t.tenant = d.tenant AND t.bucket = d.seq >> {BUCKET_BITS}
          AND t.seq = d.seq AND t.term >= 'account:' AND t.term < 'account;'
        WHERE d.seq > ? AND d.tenant = ? AND d.outcome IN (1, 2) AND d.redacted = 0
          AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.tenant = d.tenant
                          AND l.event_id = d.event_id)
        GROUP BY t.term ORDER BY MAX(d.seq) DESC LIMIT ?""",
        (newest - 100_000, tenant, limit),
    ).fetchall()
    cases = []
    for term, events, seq in rows:
        raw = db.execute("SELECT decision FROM decisions WHERE seq = ?", (seq,)).fetchone()[0]
        cases.append(Case(term, sorted(set(events.split(" "))), decision_decoder.decode(raw)))
    return cases
