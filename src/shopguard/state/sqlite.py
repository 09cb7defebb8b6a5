"""The SQLite decision log (WAL): the embedded engine's durable journal.

One transaction per ``commit``: every record staged since the last commit lands
together, so ``decide`` (commit per event) and ``decide_many`` (commit per batch) both
acknowledge only what is on disk. WAL with ``synchronous=NORMAL`` survives a killed
process (the OS has the pages); ``durability: full`` also survives power loss.

``begin`` takes the write lock and checks the disk keeps ``min_free`` bytes before the
engine changes anything for a batch, so a lock or a full disk refuses it untouched. A
commit that still fails (the disk filled meanwhile, an I/O error) is rolled back on disk
and in memory alike: the sequence and chain heads go back to the last committed record,
so the next commit continues the chain with no gap. Either way the error becomes
StorageUnavailable (state/health.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from shopguard.decision import Decision, decision_decoder, decision_encoder
from shopguard.errors import StorageUnavailable
from shopguard.labels import Label, MerchantHealth, event_money, ledger_merchant
from shopguard.labels.label import label_decoder, label_encoder
from shopguard.state import housekeeping
from shopguard.state.chain import (
    GENESIS,
    ChainReport,
    decision_content,
    link,
    op_content,
    verify,
)
from shopguard.state.health import durable_write, storage_error
from shopguard.state.protocol import DECISION_LOGS, LogRecord
from shopguard.state.reports import merchant_health
from shopguard.state.search import DecisionQuery, Found, terms

_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions(
  seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, time REAL NOT NULL,
  type TEXT NOT NULL, outcome INTEGER NOT NULL, facts BLOB NOT NULL, decision BLOB NOT NULL,
  merchant TEXT, gross REAL NOT NULL DEFAULT 0, stake REAL NOT NULL DEFAULT 0,
  content BLOB, chain BLOB, redacted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS decisions_event ON decisions(tenant, event_id);
CREATE TABLE IF NOT EXISTS labels(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,
  event_id TEXT, kind TEXT NOT NULL, known_at REAL NOT NULL, loss REAL NOT NULL,
  merchant TEXT, label BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS labels_event ON labels(tenant, event_id);
CREATE TABLE IF NOT EXISTS list_ops(id INTEGER PRIMARY KEY, seq INTEGER, op BLOB NOT NULL,
  content BLOB, chain BLOB, redacted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,
  payload BLOB NOT NULL, delivered_at REAL);
CREATE TABLE IF NOT EXISTS snapshot(id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS write_probe(id INTEGER PRIMARY KEY CHECK (id = 1), pad BLOB);
"""


_PROBE_BYTES = 256 * 1024  # about what a batch of 256 decisions writes
_INSERT = (
    "INSERT INTO decisions(seq, tenant, event_id, time, type, outcome, facts, decision,"
    " merchant, gross, stake, content, chain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


class SqliteDecisionLog:
    durable = True

    @durable_write
    def __init__(
        self,
        path: str | Path,
        synchronous: str = "NORMAL",
        busy_timeout: float = 0.25,
        min_free: int = 0,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A lock held by another process fails a write after ``busy_timeout`` seconds, not
        # sqlite's 5 s: commits run on the event loop, which must not stall that long.
        self._busy_ms = max(0, round(busy_timeout * 1000))
        self._min_free = min_free
        self._db = sqlite3.connect(
            str(self.path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
        self._migrate()
        self._db.executescript(_SCHEMA + housekeeping.SCHEMA)
        self._rows: list[tuple[object, ...]] = []
        self._ops: list[tuple[int | None, bytes, bytes, bytes]] = []
        self._alerts: list[tuple[int, bytes]] = []
        self._terms: list[tuple[str, int, str, int]] = []
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()
        self._seq = int(row[0])
        self._head = self._last_chain("SELECT chain FROM decisions ORDER BY seq DESC LIMIT 1")
        self._ops_head = self._last_chain("SELECT chain FROM list_ops ORDER BY id DESC LIMIT 1")
        self._heads = (self._head, self._ops_head)  # as committed: restored on a rollback
        self._committed_seq = self._seq

    def _last_chain(self, query: str) -> bytes:
        row = self._db.execute(query).fetchone()
        return GENESIS if row is None or row[0] is None else bytes(row[0])

    def _migrate(self) -> None:
        """Journals written before merchant health get its columns (empty: the report
        starts from the upgrade)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(decisions)")}
        added = (
            ("merchant", "merchant TEXT"),
            ("gross", "gross REAL NOT NULL DEFAULT 0"),
            ("stake", "stake REAL NOT NULL DEFAULT 0"),
            ("content", "content BLOB"),  # records from before the chain stay unchained
            ("chain", "chain BLOB"),
            ("redacted", "redacted INTEGER NOT NULL DEFAULT 0"),
        )
        for name, ddl in added if columns else ():
            if name not in columns:
                self._db.execute(f"ALTER TABLE decisions ADD COLUMN {ddl}")
        op_columns = {row[1] for row in self._db.execute("PRAGMA table_info(list_ops)")}
        for name, ddl in (
            ("content", "content BLOB"),
            ("chain", "chain BLOB"),
            ("redacted", "redacted INTEGER NOT NULL DEFAULT 0"),
        ):
            if op_columns and name not in op_columns:
                self._db.execute(f"ALTER TABLE list_ops ADD COLUMN {ddl}")

    def append(self, r: LogRecord) -> None:
        gross, stake = event_money(r.type, r.facts)
        row = (
            r.seq,
            r.tenant,
            r.event_id,
            r.time,
            r.type,
            r.outcome,
            _facts_encoder.encode(r.facts),
            decision_encoder.encode(r.decision),
        )
        content = decision_content(row)
        self._head = link(self._head, content)
        merchant = ledger_merchant(r.type, r.facts)
        self._rows.append((*row, merchant, gross, stake, content, self._head))
        if r.decision is not None:
            where = (r.tenant, r.seq >> housekeeping.BUCKET_BITS)
            self._terms.extend((*where, t, r.seq) for t in terms(r.facts, r.decision))
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
        self._ops.append((seq, op, content, self._ops_head))

    @durable_write
    def begin(self) -> None:
        """Take the write lock (waiting at most the busy timeout) and check free space,
        before a batch changes anything: what would fail its commit refuses it now."""
        if self._min_free:
            disk = os.statvfs(self.path.parent)
            if disk.f_bavail * disk.f_frsize < self._min_free:
                free = disk.f_bavail * disk.f_frsize
                message = f"journal: {free:,} bytes free, under the {self._min_free:,} kept"
                raise StorageUnavailable(message, "full")
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if not (self._rows or self._ops or self._alerts):
            self._end_transaction()  # a batch that staged nothing (all resent events)
            return
        db = self._db
        try:
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            db.executemany(_INSERT, self._rows)
            db.executemany("INSERT OR IGNORE INTO decision_terms VALUES (?,?,?,?)", self._terms)
            if self._ops:
                db.executemany(
                    "INSERT INTO list_ops(seq, op, content, chain) VALUES (?,?,?,?)", self._ops
                )
            if self._alerts:
                db.executemany("INSERT INTO outbox(seq, payload) VALUES (?,?)", self._alerts)
            db.execute("COMMIT")
            self._heads = (self._head, self._ops_head)
            self._committed_seq = self._seq
        except BaseException as exc:
            self._roll_back()
            unavailable = storage_error(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        finally:
            self._rows, self._ops, self._alerts, self._terms = [], [], [], []

    def _roll_back(self) -> None:
        """Undo an open transaction (sqlite may have rolled a full-disk one back itself)
        and bring the sequence and chain heads back to the last committed record."""
        self._end_transaction()
        self._seq = self._committed_seq
        self._head, self._ops_head = self._heads

    def _end_transaction(self) -> None:
        if self._db.in_transaction:  # sqlite ends it itself when it can: nothing was kept
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def discard(self) -> bool:
        """Drop what was staged since the last commit; whether there was anything."""
        dropped = bool(self._rows or self._ops or self._alerts)
        self._rows, self._ops, self._alerts, self._terms = [], [], [], []
        self._roll_back()
        return dropped

    @durable_write
    def probe(self) -> None:
        """A durable write of a batch's size, then its removal: fails as a commit would
        (full, locked, I/O) but waits on no lock. Whether the journal takes writes again."""
        db = self._db
        db.execute("PRAGMA busy_timeout = 0")
        try:
            for pad in (_PROBE_BYTES, 0):
                self.begin()
                db.execute("INSERT OR REPLACE INTO write_probe VALUES (1, zeroblob(?))", (pad,))
                db.execute("COMMIT")
        finally:
            self._end_transaction()
            db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")

    def last_seq(self) -> int:
        return self._seq

    def decision(self, seq: int) -> Decision | None:
        raw: Any = None
        for row in self._rows:  # staged in this batch, not yet committed
            if row[0] == seq:
                raw = row[7]
        if raw is None:
            found = self._db.execute("SELECT decision FROM decisions WHERE seq = ?", (seq,))
            result = found.fetchone()
            raw = None if result is None else result[0]
        return None if raw is None else decision_decoder.decode(raw)

    def find(self, tenant: str, event_id: str) -> Decision | None:
        self.commit()
        row = self._db.execute(
            "SELECT decision FROM decisions WHERE tenant = ? AND event_id = ? ORDER BY seq LIMIT 1",
            (tenant, event_id),
        ).fetchone()
        return None if row is None else decision_decoder.decode(row[0])

    def facts_of(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        self.commit()
        row = self._db.execute(
            "SELECT facts FROM decisions WHERE tenant = ? AND event_id = ? ORDER BY seq LIMIT 1",
            (tenant, event_id),
        ).fetchone()
        return _facts_decoder.decode(row[0]) if row is not None and row[0] else None

    def records_after(self, seq: int) -> Iterator[LogRecord]:
        cursor = self._db.execute(
            "SELECT seq, tenant, event_id, time, type, outcome, facts, decision "
            "FROM decisions WHERE seq > ? ORDER BY seq",
            (seq,),
        )
        for seq_, tenant, event_id, time, type_, outcome, facts, _ in cursor:
            yield LogRecord(
                seq_, tenant, event_id, time, type_, outcome, _facts_decoder.decode(facts), None
            )

    def list_ops(self) -> Iterator[bytes]:
        for (op,) in self._db.execute("SELECT op FROM list_ops WHERE redacted = 0 ORDER BY id"):
            yield bytes(op)

    @durable_write
    def add_label(self, label: Label) -> None:
        self.commit()
        self._db.execute(
            "INSERT INTO labels(tenant, event_id, kind, known_at, loss, merchant, label) "
            "VALUES (?,?,?,?,?,?,?)",
            (
                label.tenant,
                label.event_id,
                label.kind,
                label.known_at,
                label.loss,
                label.merchant,
                label_encoder.encode(label),
            ),
        )

    def labels(self, tenant: str) -> Iterator[Label]:
        rows = self._db.execute("SELECT label FROM labels WHERE tenant = ? ORDER BY id", (tenant,))
        for (raw,) in rows:
            yield label_decoder.decode(raw)

    def merchant_health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        self.commit()
        return merchant_health(self._db, tenant, since, until, known_by)

    # -- search and upkeep (state/housekeeping.py) ---------------------------------------
    def search(self, query: DecisionQuery) -> Found:
        self.commit()
        return housekeeping.search(self._db, query)

    @durable_write
    def thin(self, before_time: float, upto_seq: int) -> int:
        self.commit()
        return housekeeping.thin(self._db, before_time, upto_seq)

    @durable_write
    def compact(self, before_time: float, upto_seq: int) -> int:
        self.commit()
        return housekeeping.compact(self._db, before_time, upto_seq)

    @durable_write
    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        self.commit()
        return housekeeping.erase(self._db, tenant, kind, value)

    def reader(self) -> sqlite3.Connection:
        """The connection, everything staged committed: for read-only reports (console)."""
        self.commit()
        return self._db

    def size(self) -> tuple[int, int]:
        """(records kept, bytes on disk including the WAL)."""
        self.commit()
        rows = int(self._db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
        wal = self.path.with_name(self.path.name + "-wal")
        return rows, self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def verify(self) -> list[ChainReport]:
        """Recompute the hash chains (see state/chain.py)."""
        self.commit()
        return verify(self._db)

    def outbox(self) -> list[bytes]:
        rows = self._db.execute("SELECT payload FROM outbox WHERE delivered_at IS NULL")
        return [bytes(r[0]) for r in rows]

    @durable_write
    def save_snapshot(self, seq: int, blob: bytes) -> None:
        self.commit()
        self._db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?)", (seq, blob))

    def load_snapshot(self) -> tuple[int, bytes] | None:
        row = self._db.execute("SELECT seq, state FROM snapshot WHERE id = 1").fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def close(self) -> None:
        self.commit()
        self._db.close()


DECISION_LOGS["sqlite"] = SqliteDecisionLog
