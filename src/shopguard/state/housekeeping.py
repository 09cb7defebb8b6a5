"""The SQLite journal's upkeep: search, retention and compaction, erasure of one entity.

Retention works in two steps so storage stays bounded under attack traffic while the hash
chain still verifies: *thinning* drops the facts and decision of quiet records (allowed,
no reasons) older than ``retention_quiet`` but keeps their seq and hashes; *compaction*
deletes every record older than ``retention`` (a prefix of the journal) and appends the
last deleted record's chain hash to the anchor log (itself chained, its head sealed like
the others), where ``verify`` starts. Neither touches records after the latest snapshot,
which a restart replays. Each runs inside the caller's transaction (the SQLite log seals
the new heads before it commits).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import msgspec

from shopguard.decision import decision_decoder, decision_encoder
from shopguard.lists.store import names_entity
from shopguard.state import redactions
from shopguard.state.chain import GENESIS, anchor_content, label_content, link
from shopguard.state.search import DecisionQuery, Found

SCHEMA = (
    redactions.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS decision_terms(tenant TEXT NOT NULL, bucket INTEGER NOT NULL,
  term TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(tenant, bucket, term, seq))
  WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_time ON decisions(tenant, time);
-- the console's review queue: one tenant's held (review, challenge) decisions, newest
-- first, whatever the other tenants send; a few percent of rows, so cheap to keep
CREATE INDEX IF NOT EXISTS decisions_held ON decisions(tenant, seq) WHERE outcome IN (1, 2);
CREATE TABLE IF NOT EXISTS anchor_log(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,
  head BLOB NOT NULL, content BLOB NOT NULL, chain BLOB NOT NULL);
"""
)
THINNED, REDACTED = 2, 1  # values of decisions.redacted
# The term index is keyed by bucket (seq >> 12) first: new terms land in the newest
# bucket's small subtree, so a commit dirties a few hundred pages, not one page per term
# (terms are random pseudonyms). A lookup probes each bucket: ~2,500 probes per 10M.
BUCKET_BITS = 12
_OUTCOMES = {"allow": 0, "review": 1, "challenge": 2, "deny": 3}
_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])


def bucket(seq: int) -> int:
    return seq >> BUCKET_BITS


def term_seqs(db: sqlite3.Connection, tenant: str, term: str, below: int) -> Iterator[int]:
    """The seqs indexed under ``term``, newest first, below ``below``."""
    low = db.execute("SELECT MIN(seq) FROM decisions").fetchone()[0] or 0
    for b in range(bucket(below - 1), bucket(low) - 1, -1):
        rows = db.execute(
            "SELECT seq FROM decision_terms WHERE tenant = ? AND bucket = ? AND term = ?"
            " AND seq < ? ORDER BY seq DESC",
            (tenant, b, term, below),
        )
        yield from (seq for (seq,) in rows)


def search(db: sqlite3.Connection, q: DecisionQuery) -> Found:
    where = ["tenant = ?", "time >= ?", "time < ?", "redacted != 2"]
    params: list[Any] = [q.tenant, q.since, q.until]
    if q.outcome is not None:
        where.append("outcome = ?")
        params.append(_OUTCOMES[q.outcome])
    terms = (q.entity, q.rule and f"rule:{q.rule}", q.shadow and f"shadow:{q.shadow}")
    wanted: list[str] = [t for t in terms if t]
    for term in wanted[1:]:
        where.append(
            "EXISTS (SELECT 1 FROM decision_terms t WHERE t.tenant = decisions.tenant"
            f" AND t.bucket = decisions.seq >> {BUCKET_BITS} AND t.term = ?"
            " AND t.seq = decisions.seq)"
        )
        params.append(term)
    top = int(db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM decisions").fetchone()[0])
    below = top if q.before is None else min(q.before, top)
    select = f"SELECT seq, decision FROM decisions WHERE {' AND '.join(where)}"
    rows: list[tuple[int, bytes]] = []
    if not wanted:
        sql = f"{select} AND seq < ? ORDER BY seq DESC LIMIT ?"
        rows = db.execute(sql, (*params, below, q.limit + 1)).fetchall()
    else:
        chunk: list[int] = []
        for seq in term_seqs(db, q.tenant, wanted[0], below):
            chunk.append(seq)
            if len(chunk) == 256:
                rows += _fetch(db, select, params, chunk)
                chunk = []
                if len(rows) > q.limit:
                    break
        if chunk:
            rows += _fetch(db, select, params, chunk)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    decisions = [decision_decoder.decode(raw) for _, raw in rows]
    return Found(decisions, rows[-1][0] if more else None)


def _fetch(
    db: sqlite3.Connection, select: str, params: list[Any], seqs: list[int]
) -> list[tuple[int, bytes]]:
    marks = ",".join("?" * len(seqs))
    sql = f"{select} AND seq IN ({marks}) ORDER BY seq DESC"
    return db.execute(sql, (*params, *seqs)).fetchall()


def add_label(db: sqlite3.Connection, row: tuple[Any, ...]) -> None:
    """Append a label (its columns, as ``chain.label_content`` takes them), chained."""
    last = db.execute("SELECT id, chain FROM labels ORDER BY id DESC LIMIT 1").fetchone()
    number, previous = (int(last[0]), bytes(last[1] or b"")) if last else (0, GENESIS)
    content = label_content(row)
    db.execute(
        "INSERT INTO labels(id, tenant, event_id, kind, known_at, loss, merchant, label,"
        " content, chain) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (number + 1, *row, content, link(previous, content)),
    )


def thin(db: sqlite3.Connection, before_time: float, upto_seq: int) -> int:
    """Drop the bodies and index terms of quiet allowed records older than
    ``before_time``; their seq, hashes, event id and money columns stay."""
    # seq is unique across tenants: one pass over the rule terms, not a probe per row
    db.execute(
        "CREATE TEMP TABLE quiet AS SELECT seq FROM decisions WHERE seq <= ? AND time < ?"
        " AND outcome = 0 AND redacted = 0 AND seq NOT IN (SELECT seq FROM decision_terms"
        " WHERE seq <= ? AND term >= 'rule:' AND term < 'rule;')",
        (upto_seq, before_time, upto_seq),
    )
    thinned = db.execute(
        "UPDATE decisions SET facts = x'', decision = x'', redacted = 2"
        " WHERE seq IN (SELECT seq FROM quiet)"
    ).rowcount
    db.execute("DELETE FROM decision_terms WHERE seq IN (SELECT seq FROM quiet)")
    db.execute("DROP TABLE quiet")
    if thinned:
        redactions.record(db, "thin", upto=upto_seq, before=before_time)
    return int(thinned)


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
    seq, head = int(anchor[0]), bytes(anchor[1])
    newest = db.execute("SELECT id, chain FROM anchor_log ORDER BY id DESC LIMIT 1").fetchone()
    number, previous = (int(newest[0]), bytes(newest[1])) if newest else (0, GENESIS)
    content = anchor_content(seq, head)
    db.execute(
        "INSERT INTO anchor_log VALUES (?,?,?,?,?)",
        (number + 1, seq, head, content, link(previous, content)),
    )
    deleted = db.execute("DELETE FROM decisions WHERE seq <= ?", (seq,)).rowcount
    db.execute("DELETE FROM decision_terms WHERE seq <= ?", (seq,))
    db.execute("DELETE FROM outbox WHERE seq <= ? AND delivered_at IS NOT NULL", (seq,))
    return int(deleted)


def erase(db: sqlite3.Connection, tenant: str, kind: str, value: str) -> dict[str, int]:
    """Redact every journal record naming this pseudonym: the value and the analyst
    masks go, the hashes stay (``verify`` still links the chain). Returns counts."""
    term = f"{kind}:{value}"
    top = int(db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM decisions").fetchone()[0])
    seqs = list(term_seqs(db, tenant, term, top))
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
    db.executemany(
        "DELETE FROM decision_terms WHERE tenant = ? AND bucket = ? AND term = ? AND seq = ?",
        [(tenant, bucket(seq), term, seq) for seq in seqs],
    )
    ops = []
    for op_id, raw in db.execute("SELECT id, op FROM list_ops WHERE redacted = 0").fetchall():
        if names_entity(raw, tenant, kind, value):
            db.execute("UPDATE list_ops SET op = x'', redacted = 1 WHERE id = ?", (op_id,))
            ops.append(op_id)
    # labels are blanked, not deleted: their chain still links; reports skip them
    labels = [
        int(label_id)
        for (label_id,) in db.execute(
            "SELECT id FROM labels WHERE tenant = ? AND redacted = 0 AND CASE WHEN redacted = 0"
            " THEN json_extract(label, '$.entity') = ? AND json_extract(label, '$.entity_kind')"
            " = ? END",
            (tenant, value, kind),
        ).fetchall()
    ]
    db.executemany(
        "UPDATE labels SET label = x'', redacted = 1 WHERE id = ?", [(i,) for i in labels]
    )
    redactions.record(db, "erase", seqs, ops, labels)
    _scrub_messages(db, value)
    return {"decisions": len(seqs), "list_ops": len(ops), "labels": len(labels)}


def _scrub(data: Any, value: str) -> Any:
    """A message's data without the erased pseudonym, nor the masks beside it."""
    if isinstance(data, dict):
        return {k: _scrub(v, value) for k, v in data.items() if v != value and k != "display"}
    if isinstance(data, list):
        return [_scrub(v, value) for v in data if v != value]
    return data


def _scrub_messages(db: sqlite3.Connection, value: str) -> None:
    """Alerts waiting in the outbox and webhook deliveries (sent or not) that name the
    pseudonym lose it: what partners get from here on, and what is kept, no longer
    names the entity."""
    needle = value.encode()
    for table, column in (("outbox", "payload"), ("webhook_deliveries", "body")):
        have = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        rows = db.execute(
            f"SELECT id, {column} FROM {table} WHERE instr({column}, ?) > 0", (needle,)
        ).fetchall() if have else []  # fmt: skip
        for row_id, raw in rows:
            scrubbed = msgspec.json.encode(_scrub(msgspec.json.decode(raw), value))
            db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (scrubbed, row_id))
