"""The PostgreSQL decision log: one journal shared by several workers (writers).

Each writer (``writer``; default hostname-pid) has its own sequence and hash chains
(decisions, list changes, labels), so workers never wait on each other to append; it
holds a session advisory lock on its name, so two processes cannot write one chain.
``commit`` sends the staged batch in one round trip (pipeline mode: BEGIN, one
``INSERT ... SELECT FROM unnest`` of every record, the list changes and alerts, the
MAC'd chain heads, COMMIT) as one transaction; a failure keeps none of it and puts the
sequence and heads back (a lost connection re-reads them from the server, in case the
COMMIT landed). List changes take a transaction lock while they insert, so their
journal-wide order (``list_ops``) is commit order. A seq of another writer's record
(``seq_of``) comes back tagged with that writer's number above bit 40; ``decision``
takes either.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import msgspec
import psycopg

from shopguard.decision import decision_encoder
from shopguard.errors import ConfigError, StorageUnavailable
from shopguard.labels import event_money, ledger_merchant
from shopguard.state.chain import (
    GENESIS,
    body_digest,
    decision_content,
    link,
    op_content,
)
from shopguard.state.postgres import queries
from shopguard.state.postgres.connect import (
    Conn,
    commit_mac,
    connect,
    head_mac,
    one,
    pg_write,
    storage_error,
)
from shopguard.state.postgres.reads import JournalReads
from shopguard.state.postgres.schema import Partitions, lock_id, migrate
from shopguard.state.protocol import LogRecord
from shopguard.state.search import terms

log = logging.getLogger("shopguard.journal")
_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])
_COLUMNS = ("seq", "tenant", "event_id", "time", "type", "outcome", "facts", "decision",
            "merchant", "gross", "stake", "content", "chain", "body", "seal", "terms")  # fmt: skip
_TYPES = ("bigint", "text", "text", "float8", "text", "smallint", "bytea", "bytea", "text",
          "float8", "float8", "bytea", "bytea", "bytea", "bytea", "text")  # fmt: skip


class PostgresDecisionLog(JournalReads):
    durable = True

    @pg_write
    def __init__(
        self,
        dsn: str,
        schema: str = "shopguard",
        timeout: float = 2.0,
        partition: str = "day",
        writer: str = "",
        key: bytes = b"",
        read_only: bool = False,
    ) -> None:
        """``key``: the audit key (state/audit.py), the same for every worker: it MACs
        each commit, each chain head and the snapshots. ``read_only``: for ``verify`` and
        reports beside running workers (no migration, no writer of its own)."""
        self.dsn, self.schema, self.timeout = dsn, schema, timeout
        self.writer = writer or f"{socket.gethostname()}-{os.getpid()}"
        self._key, self._read_only = key, read_only
        self.s = '"' + schema.replace('"', '""') + '"'
        self.parts = Partitions(schema, partition)
        self._conn: Conn | None = None
        self.writer_id = 0
        self._rows: list[tuple[Any, ...]] = []
        self._ops: list[tuple[int, int | None, bytes, bytes, bytes]] = []
        self._alerts: list[tuple[int, bytes]] = []
        self._refused: set[tuple[int, int]] = set()
        self._committed: tuple[int, bytes, int, bytes] = (0, GENESIS, 0, GENESIS)
        self._seq, self._head, self._ops_id, self._ops_head = self._committed
        self.db()

    # -- the connection ------------------------------------------------------------------
    def db(self) -> Conn:
        """The connection, (re)opened as needed: a lost one is replaced on next use, and
        the writer's heads re-read (its last COMMIT may have landed unanswered)."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        conn = connect(self.dsn, self.timeout)
        try:
            if not self._read_only:
                migrate(conn, self.schema)
                self._claim(conn)
            self.parts.refresh(conn)
            self._load_heads(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _claim(self, conn: Conn) -> None:
        conn.execute(
            f"INSERT INTO {self.s}.writers(name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
            (self.writer,),
        )
        row = conn.execute(f"SELECT id FROM {self.s}.writers WHERE name = %s", (self.writer,))
        self.writer_id = int(one(row.fetchone()))
        got = conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (lock_id(self.schema, f"writer:{self.writer}"),)
        ).fetchone()
        if got is None or not got[0]:
            if self._conn is None:  # at start: a configuration mistake
                raise ConfigError(
                    f"writer {self.writer!r} is already writing to schema {self.schema!r}:"
                    " give each worker its own `writer`"
                )
            raise StorageUnavailable("journal: this writer's old session still holds it", "locked")

    def _load_heads(self, conn: Conn) -> None:
        w, s = self.writer_id, self.s
        newest = conn.execute(
            f"SELECT seq, chain FROM {s}.decisions WHERE writer = %s ORDER BY seq DESC LIMIT 1",
            (w,),
        ).fetchone()
        sealed = dict(
            (str(c), (int(p), bytes(h)))
            for c, p, h in conn.execute(
                f"SELECT chain, position, head FROM {s}.heads WHERE writer = %s", (w,)
            )
        )
        seq, head = sealed.get("decisions", (0, GENESIS))
        if newest is not None and int(newest[0]) >= seq:  # a sealed head past the rows:
            seq, head = int(newest[0]), bytes(newest[1] or GENESIS)  # they were compacted
        op = conn.execute(
            f"SELECT id, chain FROM {s}.list_ops WHERE writer = %s ORDER BY id DESC LIMIT 1", (w,)
        ).fetchone()
        ops_id, ops_head = (int(op[0]), bytes(op[1])) if op else (0, GENESIS)
        loaded, staged = (seq, head, ops_id, ops_head), bool(self._rows or self._ops)
        if staged and loaded != self._committed:  # staged on heads that moved on
            raise StorageUnavailable("journal: its last commit landed unanswered; retry", "io")
        self._committed = loaded
        if not staged:
            self._seq, self._head, self._ops_id, self._ops_head = loaded

    # -- appending -----------------------------------------------------------------------
    def append(self, r: LogRecord) -> None:
        facts = _facts_encoder.encode(r.facts)
        raw = decision_encoder.encode(r.decision)
        merchant = ledger_merchant(r.type, r.facts)
        gross, stake = event_money(r.type, r.facts)
        meta = (r.seq, r.tenant, r.event_id, r.time, r.type, r.outcome)
        body = body_digest(facts, raw)
        content = decision_content((*meta, merchant, gross, stake), body)
        self._head = link(self._head, content)
        found = "\x1f".join(terms(r.facts, r.decision)) if r.decision is not None else ""
        self._rows.append(
            (*meta, facts, raw, merchant, gross, stake, content, self._head, body, None, found)
        )
        for op in r.list_ops:
            self._stage_op(r.seq, op)
        if r.alert is not None:
            self._alerts.append((r.seq, r.alert))
        self._seq = r.seq

    def append_list_op(self, op: bytes) -> None:
        self._stage_op(None, op)

    def _stage_op(self, seq: int | None, op: bytes) -> None:
        content = op_content(seq, op)
        self._ops_head = link(self._ops_head, content)
        self._ops_id += 1
        self._ops.append((self._ops_id, seq, op, content, self._ops_head))

    @pg_write
    def begin(self) -> None:
        """A lost connection is reopened now (or refuses the batch before it changes
        anything); no round trip otherwise."""
        self.db()

    def commit(self) -> None:
        if not (self._rows or self._ops or self._alerts):
            return
        try:
            for attempt in (0, 1):
                try:
                    self._write()
                    break
                except psycopg.errors.CheckViolation:  # a partition dropped meanwhile
                    self._end_transaction()
                    if attempt:
                        raise
                    self.parts.refresh(self.db())
            self._committed = (self._seq, self._head, self._ops_id, self._ops_head)
        except BaseException as exc:
            self._roll_back()
            unavailable = storage_error(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        finally:
            self._rows, self._ops, self._alerts = [], [], []

    def _write(self) -> None:
        conn, s, w = self.db(), self.s, self.writer_id
        missing = self.parts.missing([row[3] for row in self._rows])
        if missing:
            self.parts.create(conn, missing)
        heads = []
        if self._rows:  # the commit's last record carries its seal
            mac = commit_mac(self._key, self.writer, self._seq, self._head)
            self._rows[-1] = (*self._rows[-1][:-2], mac, self._rows[-1][-1])
            heads.append(("decisions", self._seq, self._head))
        if self._ops:
            heads.append(("list_ops", self._ops_id, self._ops_head))
        with conn.pipeline():
            conn.execute("BEGIN")
            if self._rows:
                columns = [list(c) for c in zip(*self._rows, strict=True)]
                insert = queries.insert_sql(s, _COLUMNS, _TYPES)
                conn.execute(insert, (w, *columns), binary=True)  # bytes as they are, no hex
            if self._ops:
                conn.execute(  # list changes commit in the order they insert
                    "SELECT pg_advisory_xact_lock(%s)", (lock_id(self.schema, "list_ops"),)
                )
                ids, seqs, ops, contents, chains = zip(*self._ops, strict=True)
                conn.execute(
                    f"INSERT INTO {s}.list_ops(writer, id, seq, op, content, chain)"
                    " SELECT %s, * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[],"
                    " %s::bytea[], %s::bytea[])",
                    (w, list(ids), list(seqs), list(ops), list(contents), list(chains)),
                )
            if self._alerts:
                seqs_, payloads = zip(*self._alerts, strict=True)
                conn.execute(
                    f"INSERT INTO {s}.outbox(writer, seq, payload)"
                    " SELECT %s, * FROM unnest(%s::bigint[], %s::bytea[])",
                    (w, list(seqs_), list(payloads)),
                )
            for chain, position, head in heads:
                self.seal_head(conn, w, self.writer, chain, position, head)
            conn.execute("COMMIT")

    def seal_head(
        self, conn: Conn, writer_id: int, writer: str, chain: str, position: int, head: bytes
    ) -> None:
        """Store a chain's new head, MAC'd (inside the caller's transaction)."""
        conn.execute(
            f"INSERT INTO {self.s}.heads VALUES (%s, %s, %s, %s, %s) ON CONFLICT (writer,"
            " chain) DO UPDATE SET position = excluded.position, head = excluded.head,"
            " mac = excluded.mac",
            (writer_id, chain, position, head, head_mac(self._key, writer, chain, position, head)),
        )

    def _end_transaction(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # reopened (and the heads re-read) on next use

    def _roll_back(self) -> None:
        self._end_transaction()
        self._seq, self._head, self._ops_id, self._ops_head = self._committed

    def discard(self) -> bool:
        dropped = bool(self._rows or self._ops or self._alerts)
        self._rows, self._ops, self._alerts = [], [], []
        self._roll_back()
        return dropped

    @pg_write
    def probe(self) -> None:
        """A small durable write (a row of this writer's): fails while commits would."""
        self.db().execute(
            f"INSERT INTO {self.s}.write_probe VALUES (%s, now()) ON CONFLICT (writer)"
            " DO UPDATE SET at = excluded.at",
            (self.writer_id,),
        )

    def close(self) -> None:
        try:
            self.commit()
        finally:
            if self._conn is not None:
                self._conn.close()  # the writer's advisory lock goes with the session
                self._conn = None
