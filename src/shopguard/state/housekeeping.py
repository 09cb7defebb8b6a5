"""The SQLite journal's upkeep: search, retention and compaction, erasure of one entity.

Retention works in two steps so storage stays bounded under attack traffic while the hash
chain still verifies: *thinning* drops the facts and decision of quiet records (allowed,
no reasons) older than ``retention_quiet`` but keeps their seq and hashes; *compaction*
deletes every record older than ``retention`` (a prefix of the journal) and keeps the
last deleted record's chain hash as the anchor ``verify`` starts from. Neither touches
records after the latest snapshot, which a restart replays.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from shopguard.decision import decision_decoder, decision_encoder
from shopguard.lists.store import names_entity
from shopguard.state.search import DecisionQuery, Found

SCHEMA = """
CREATE TABLE IF NOT EXISTS decision_terms(tenant TEXT NOT NULL, term TEXT NOT NULL,
  seq INTEGER NOT NULL, PRIMARY KEY(tenant, term, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_time ON decisions(tenant, time);
CREATE TABLE IF NOT EXISTS anchors(name TEXT PRIMARY KEY, seq INTEGER NOT NULL,
  chain BLOB NOT NULL);
"""
THINNED, REDACTED = 2, 1  # values of decisions.redacted
_OUTCOMES = {"allow": 0, "review": 1, "challenge": 2, "deny": 3}
_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])


def search(db: sqlite3.Connection, q: DecisionQuery) -> Found:
    where = ["d.tenant = ?", "d.time >= ?", "d.time < ?", "d.redacted != 2"]
    params: list[Any] = [q.tenant, q.since, q.until]
    if q.outcome is not None:
        where.append("d.outcome = ?")
        params.append(_OUTCOMES[q.outcome])
    if q.before is not None:
        where.append("d.seq < ?")
        params.append(q.before)
    source = "decisions d"
    wanted = [t for t in (q.entity, q.rule and f"rule:{q.rule}", q.shadow and f"shadow:{q.shadow}")]
    for i, term in enumerate(t for t in wanted if t):
        source += f" JOIN decision_terms t{i} ON t{i}.tenant = d.tenant AND t{i}.seq = d.seq"
        where.append(f"t{i}.term = ?")
        params.append(term)
    sql = f"SELECT d.seq, d.decision FROM {source} WHERE {' AND '.join(where)}"
    rows = db.execute(f"{sql} ORDER BY d.seq DESC LIMIT ?", (*params, q.limit + 1)).fetchall()
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    decisions = [decision_decoder.decode(raw) for _, raw in rows]
    return Found(decisions, rows[-1][0] if more else None)


def thin(db: sqlite3.Connection, before_time: float, upto_seq: int) -> int:
    """Drop the bodies of quiet allowed records older than ``before_time``."""
    cursor = db.execute(
        "UPDATE decisions SET facts = x'', decision = x'', redacted = 2 WHERE seq <= ?"
        " AND time < ? AND outcome = 0 AND redacted = 0 AND NOT EXISTS (SELECT 1 FROM"
        " decision_terms t WHERE t.tenant = decisions.tenant AND t.seq = decisions.seq"
        " AND t.term LIKE 'rule:%')",
        (upto_seq, before_time),
    )
    return cursor.rowcount


def compact(db: sqlite3.Connection, before_time: float, upto_seq: int) -> int:
    """Delete the prefix of records older than ``before_time``; returns records deleted."""
    row = db.execute("SELECT MIN(seq) FROM decisions WHERE time >= ?", (before_time,)).fetchone()
    last = min(upto_seq, (row[0] - 1) if row[0] is not None else upto_seq)
    anchor = db.execute(
        "SELECT seq, chain FROM decisions WHERE seq <= ? AND chain IS NOT NULL"
        " ORDER BY seq DESC LIMIT 1",
        (last,),
    ).fetchone()
    if anchor is None:
        return 0
    db.execute("BEGIN")
    try:
        db.execute("INSERT OR REPLACE INTO anchors VALUES ('decisions', ?, ?)", anchor)
        deleted = db.execute("DELETE FROM decisions WHERE seq <= ?", (last,)).rowcount
        db.execute("DELETE FROM decision_terms WHERE seq <= ?", (last,))
        db.execute("DELETE FROM outbox WHERE seq <= ? AND delivered_at IS NOT NULL", (last,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # freed pages are reused from here on
    return int(deleted)


def erase(db: sqlite3.Connection, tenant: str, kind: str, value: str) -> dict[str, int]:
    """Redact every journal record naming this pseudonym: the value and the analyst
    masks go, the hashes stay (``verify`` still links the chain). Returns counts."""
    term = f"{kind}:{value}"
    seqs = [
        r[0]
        for r in db.execute(
            "SELECT seq FROM decision_terms WHERE tenant = ? AND term = ?", (tenant, term)
        )
    ]
    db.execute("PRAGMA secure_delete = ON")  # overwrite the old bytes, not just unlink them
    db.execute("BEGIN")
    try:
        for seq in seqs:
            row = db.execute(
                "SELECT facts, decision FROM decisions WHERE seq = ? AND redacted != 2", (seq,)
            ).fetchone()
            if row is None:
                continue
            facts = {k: v for k, v in _facts_decoder.decode(row[0]).items() if v != value}
            decision = msgspec.structs.replace(decision_decoder.decode(row[1]), display={})
            db.execute(
                "UPDATE decisions SET facts = ?, decision = ?, redacted = 1 WHERE seq = ?",
                (_facts_encoder.encode(facts), decision_encoder.encode(decision), seq),
            )
        db.execute("DELETE FROM decision_terms WHERE tenant = ? AND term = ?", (tenant, term))
        ops = 0
        for op_id, raw in db.execute("SELECT id, op FROM list_ops WHERE redacted = 0").fetchall():
            if names_entity(raw, tenant, kind, value):
                db.execute("UPDATE list_ops SET op = x'', redacted = 1 WHERE id = ?", (op_id,))
                ops += 1
        labels = db.execute(
            "DELETE FROM labels WHERE tenant = ? AND json_extract(label, '$.entity') = ?"
            " AND json_extract(label, '$.entity_kind') = ?",
            (tenant, value, kind),
        ).rowcount
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.execute("PRAGMA secure_delete = OFF")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and out of the write-ahead log
    return {"decisions": len(seqs), "list_ops": ops, "labels": int(labels)}
