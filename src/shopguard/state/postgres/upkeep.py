"""Retention and erasure in the PostgreSQL journal, for every writer at once.

*Thinning* blanks the bodies of quiet allowed records older than the horizon (hashes
kept). *Compaction* drops whole time partitions older than the horizon (no row deletes,
no vacuum debt): before a drop, each writer whose records go gets an anchor on the
journal-wide anchor chain listing the seq runs dropped from its chain and the chain hash
at each run's end, where ``verify`` picks the chain up again (event times are not
monotonic in seq, so a run need not be a prefix). Neither touches a writer's records
after its latest snapshot (``upto_seq`` for this writer, the snapshot's seq for the
others; a writer without one keeps everything), which its restart replays. Both run
under one advisory lock, so two workers' upkeep never interleave.
"""

from __future__ import annotations

import struct
import time
from array import array
from typing import TYPE_CHECKING, Any

import msgspec
from psycopg import sql

from shopguard.decision import decision_decoder, decision_encoder
from shopguard.lists.store import names_entity
from shopguard.state.audit import digest
from shopguard.state.chain import GENESIS, link
from shopguard.state.housekeeping import _scrub
from shopguard.state.postgres.connect import Conn, one, pack_runs
from shopguard.state.postgres.queries import writer_names
from shopguard.state.postgres.schema import lock_id

if TYPE_CHECKING:
    from shopguard.state.postgres.reads import JournalReads

_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])


def pairs(items: list[tuple[int, int]]) -> bytes:
    return array("q", [n for pair in items for n in pair]).tobytes()


def unpairs(raw: bytes) -> list[tuple[int, int]]:
    flat = array("q", raw)
    return list(zip(flat[0::2], flat[1::2], strict=True))


def redaction_content(
    kind: str, at: float, marks: bytes, before: float, seqs: bytes, ops: bytes, labels: bytes
) -> bytes:
    return digest(kind.encode(), struct.pack("<dd", at, before), marks, seqs, ops, labels)


def anchor_content(writer: str, runs: bytes) -> bytes:
    return digest(b"anchor", writer.encode(), runs)


def _locked(log: JournalReads, conn: Conn) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(log.schema, "upkeep"),))


def _limits(log: JournalReads, upto_seq: int) -> dict[int, int]:
    """Per writer, the newest seq its snapshot covers (this writer: ``upto_seq``)."""
    rows = log.db().execute(f"SELECT writer, seq FROM {log.s}.snapshots")
    limits = {int(w): int(seq) for w, seq in rows}
    limits[log.writer_id] = upto_seq
    return limits


def _chain_on(log: JournalReads, conn: Conn, table: str, content: bytes) -> tuple[int, bytes]:
    """The next (id, chain hash) of a journal-wide chain, sealed at writer 0."""
    last = conn.execute(f"SELECT id, chain FROM {log.s}.{table} ORDER BY id DESC LIMIT 1")
    row = last.fetchone()
    number, previous = (int(row[0]), bytes(row[1])) if row else (0, GENESIS)
    chain = link(previous, content)
    log.seal_head(conn, 0, "", table, number + 1, chain)
    return number + 1, chain


def record(
    log: JournalReads,
    conn: Conn,
    kind: str,
    marks: bytes = b"",
    before: float = 0.0,
    seqs: bytes = b"",
    ops: bytes = b"",
    labels: bytes = b"",
) -> None:
    """Append a redaction (inside the caller's transaction, under the upkeep lock)."""
    at = time.time()
    content = redaction_content(kind, at, marks, before, seqs, ops, labels)
    number, chain = _chain_on(log, conn, "redactions", content)
    conn.execute(
        f"INSERT INTO {log.s}.redactions VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        (number, kind, at, marks, before, seqs, ops, labels, content, chain),
    )


def thin(log: JournalReads, before_time: float, upto_seq: int) -> int:
    conn = log.db()
    with conn.transaction():
        _locked(log, conn)
        limits = sorted(_limits(log, upto_seq).items())
        done = conn.execute(
            f"UPDATE {log.s}.decisions d SET facts = '', decision = '', redacted = 2,"
            " terms = '{}' FROM unnest(%s::int[], %s::bigint[]) AS l(writer, upto)"
            " WHERE d.writer = l.writer AND d.seq <= l.upto AND d.time < %s AND d.outcome = 0"
            " AND d.redacted = 0 AND NOT EXISTS (SELECT 1 FROM unnest(d.terms) t"
            " WHERE t LIKE 'rule:%%')",
            ([w for w, _ in limits], [u for _, u in limits], before_time),
        ).rowcount
        if done:
            record(log, conn, "thin", pairs(limits), before_time)
    return max(0, done)


def compact(log: JournalReads, before_time: float, upto_seq: int) -> int:
    """Drop the oldest partitions wholly before ``before_time``; returns records dropped."""
    conn, s = log.db(), log.s
    with conn.transaction():
        _locked(log, conn)
        limits = _limits(log, upto_seq)
        doomed: list[str] = []
        end = float("-inf")
        for name, _, part_end in log.parts.bounds(conn):
            if part_end > before_time:
                break
            newest = conn.execute(
                sql.SQL("SELECT writer, MAX(seq) FROM {}.{} GROUP BY writer").format(
                    sql.Identifier(log.schema), sql.Identifier(name)
                )
            ).fetchall()
            if any(int(seq) > limits.get(int(w), -1) for w, seq in newest):
                break  # records a restart would replay: not yet
            doomed.append(name)
            end = part_end
        if not doomed:
            return 0
        runs: dict[int, list[tuple[int, int, bytes]]] = {}
        for w, first, last, head in conn.execute(
            f"SELECT writer, MIN(seq), MAX(seq), (array_agg(chain ORDER BY seq DESC))[1]"
            f" FROM (SELECT writer, seq, chain, seq - ROW_NUMBER() OVER (PARTITION BY writer"
            f" ORDER BY seq) AS grp FROM {s}.decisions WHERE time < %s) AS g"
            " GROUP BY writer, grp ORDER BY writer, MIN(seq)",
            (end,),
        ):
            runs.setdefault(int(w), []).append((int(first), int(last), bytes(head or GENESIS)))
        names = writer_names(log)
        for w, dropped in sorted(runs.items()):
            packed = pack_runs(dropped)
            content = anchor_content(names[w], packed)
            number, chain = _chain_on(log, conn, "anchors", content)
            conn.execute(
                f"INSERT INTO {s}.anchors VALUES (%s,%s,%s,%s,%s)",
                (number, w, packed, content, chain),
            )
            conn.execute(
                f"DELETE FROM {s}.outbox WHERE writer = %s AND seq <= %s"
                " AND delivered_at IS NOT NULL",
                (w, dropped[-1][1]),
            )
        for name in doomed:
            conn.execute(
                sql.SQL("DROP TABLE {}.{}").format(sql.Identifier(log.schema), sql.Identifier(name))
            )
    log.parts.known.difference_update(doomed)
    return sum(last - first + 1 for dropped in runs.values() for first, last, _ in dropped)


def erase(log: JournalReads, tenant: str, kind: str, value: str) -> dict[str, int]:
    """Redact every record of the tenant naming this pseudonym, whichever writer wrote
    it: the value and the analyst masks go, the hashes stay."""
    conn, s = log.db(), log.s
    term = f"{kind}:{value}"
    with conn.transaction():
        _locked(log, conn)
        found = conn.execute(
            f"SELECT writer, seq, time, facts, decision FROM {s}.decisions WHERE tenant = %s"
            " AND terms @> ARRAY[%s] AND redacted != 2 ORDER BY writer, seq",
            (tenant, term),
        ).fetchall()
        for w, seq, when, facts, raw in found:
            kept = {k: v for k, v in _facts_decoder.decode(facts).items() if v != value}
            decision = msgspec.structs.replace(decision_decoder.decode(bytes(raw)), display={})
            conn.execute(
                f"UPDATE {s}.decisions SET facts = %s, decision = %s, redacted = 1,"
                " terms = array_remove(terms, %s) WHERE writer = %s AND seq = %s AND time = %s",
                (
                    _facts_encoder.encode(kept),
                    decision_encoder.encode(decision),
                    term,
                    w,
                    seq,
                    when,
                ),
            )
        ops = [
            int(gid)
            for gid, raw in conn.execute(f"SELECT gid, op FROM {s}.list_ops WHERE redacted = 0")
            if names_entity(bytes(raw), tenant, kind, value)
        ]
        conn.execute(f"UPDATE {s}.list_ops SET op = '', redacted = 1 WHERE gid = ANY(%s)", (ops,))
        labels = [
            int(gid)
            for (gid,) in conn.execute(
                f"SELECT gid FROM {s}.labels WHERE tenant = %s AND redacted = 0 AND CASE WHEN"
                " redacted = 0 THEN convert_from(label, 'UTF8')::jsonb ->> 'entity' = %s AND"
                " convert_from(label, 'UTF8')::jsonb ->> 'entity_kind' = %s END",
                (tenant, value, kind),
            )
        ]
        conn.execute(
            f"UPDATE {s}.labels SET label = '', redacted = 1 WHERE gid = ANY(%s)", (labels,)
        )
        seqs = pairs([(int(w), int(seq)) for w, seq, *_ in found])
        gids = (array("q", ids).tobytes() for ids in (ops, labels))
        record(log, conn, "erase", b"", 0.0, seqs, *gids)
        # alerts waiting and webhook deliveries (webhooks/postgres.py, if it made its
        # table) lose the pseudonym too
        hooks = conn.execute("SELECT to_regclass(%s)", (f"{s}.webhook_deliveries",)).fetchone()
        places = [("outbox", "payload")] + ([("webhook_deliveries", "body")] if one(hooks) else [])
        for table, column in places:
            for row_id, payload in conn.execute(
                f"SELECT id, {column} FROM {s}.{table} WHERE position(%s::bytea in {column}) > 0",
                (value.encode(),),
            ).fetchall():
                scrubbed = msgspec.json.encode(_scrub(msgspec.json.decode(bytes(payload)), value))
                conn.execute(
                    f"UPDATE {s}.{table} SET {column} = %s WHERE id = %s", (scrubbed, row_id)
                )
    return {"decisions": len(found), "list_ops": len(ops), "labels": len(labels)}
