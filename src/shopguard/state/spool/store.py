"""The spool file: records and list operations, in the order they were acknowledged.

One SQLite database in WAL mode per writer (``data_dir/spool/<writer>.db``), written with
``synchronous=NORMAL`` (survives a killed process) or ``FULL`` (also power loss) as
``durability`` says: a batch that lands here is acknowledged as durably as the SQLite
journal would have made it. Each entry is a record (with its writer sequence, so the
chain continues unbroken when it is drained) or a list operation made outside any event
(``seq`` NULL, ``after`` the last record staged before it).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from shopguard.decision import Decision, decision_decoder, decision_encoder
from shopguard.state.health import durable_write
from shopguard.state.protocol import LogRecord

Entry = LogRecord | bytes  # bytes: a list operation made outside any event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled(
  id INTEGER PRIMARY KEY,      -- acknowledgement order: drained in this order
  seq INTEGER,                 -- the record's writer sequence; NULL for a list op
  after INTEGER NOT NULL,      -- the last record sequence staged before this entry
  tenant TEXT, event_id TEXT,
  body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS spooled_seq ON spooled(seq);
CREATE INDEX IF NOT EXISTS spooled_event ON spooled(tenant, event_id);
CREATE TABLE IF NOT EXISTS probe(id INTEGER PRIMARY KEY, at BLOB);
CREATE TABLE IF NOT EXISTS writer(id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL);
"""
_encoder = msgspec.msgpack.Encoder()
_Body = tuple[float, str, int, dict[str, Any], bytes, list[bytes], bytes | None]
_decoder = msgspec.msgpack.Decoder(_Body)


def _body(r: LogRecord) -> bytes:
    decision = decision_encoder.encode(r.decision) if r.decision is not None else b""
    return _encoder.encode((r.time, r.type, r.outcome, r.facts, decision, r.list_ops, r.alert))


def _record(seq: int, tenant: str, event_id: str, raw: bytes) -> LogRecord:
    time, type_, outcome, facts, decision, ops, alert = _decoder.decode(raw)
    verdict = decision_decoder.decode(decision) if decision else None
    return LogRecord(seq, tenant, event_id, time, type_, outcome, facts, verdict, ops, alert)


def spool_path(directory: Path, writer: str) -> Path:
    """The writer's spool file (a name safe on any file system)."""
    return directory / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', writer) or 'journal'}.db"


class SpoolFile:
    """The spooled entries of one writer; every method is safe from any thread."""

    @durable_write
    def __init__(self, path: Path, synchronous: str = "NORMAL", writer: str = "") -> None:
        """``writer``: whose records these are (kept in the file: another process may
        have to drain them, see ``SpoolingLog``); empty: the file's own."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
        self._db.executescript(_SCHEMA)
        if writer:
            self._db.execute("INSERT OR IGNORE INTO writer VALUES (1, ?)", (writer,))
        row = self._db.execute("SELECT name FROM writer").fetchone()
        self.writer = str(row[0]) if row else ""
        self._count = int(self._db.execute("SELECT COUNT(*) FROM spooled").fetchone()[0])

    def __len__(self) -> int:
        return self._count

    @durable_write
    def write(self, entries: list[Entry], after: int) -> None:
        """Append ``entries`` in one transaction: all of them are durable, or none.
        ``after``: the last record sequence before the first of them."""
        rows: list[tuple[int | None, int, str | None, str | None, bytes]] = []
        for entry in entries:
            if isinstance(entry, LogRecord):
                after = entry.seq
                rows.append((entry.seq, after, entry.tenant, entry.event_id, _body(entry)))
            else:
                rows.append((None, after, None, None, entry))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO spooled(seq, after, tenant, event_id, body) VALUES (?,?,?,?,?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._count += len(rows)

    def oldest(self, limit: int) -> list[tuple[int, int, Entry]]:
        """Up to ``limit`` entries, oldest first, as (id, after, entry)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seq, after, tenant, event_id, body FROM spooled ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        out: list[tuple[int, int, Entry]] = []
        for id_, seq, after, tenant, event_id, body in rows:
            entry = bytes(body) if seq is None else _record(seq, tenant, event_id, body)
            out.append((int(id_), int(after), entry))
        return out

    @durable_write
    def delete_through(self, last_id: int) -> None:
        """Drop every entry up to ``last_id``: the primary holds them now."""
        with self._lock:
            self._db.execute("DELETE FROM spooled WHERE id <= ?", (last_id,))
            self._count = int(self._db.execute("SELECT COUNT(*) FROM spooled").fetchone()[0])

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM spooled").fetchone()
        return int(row[0] or 0)

    def decision(self, seq: int) -> Decision | None:
        record = self._one("WHERE seq = ?", (seq,))
        return None if record is None else record.decision

    def find(self, tenant: str, event_id: str) -> LogRecord | None:
        """The event's first spooled record."""
        where = "WHERE tenant = ? AND event_id = ? ORDER BY id LIMIT 1"
        return self._one(where, (tenant, event_id))

    def _one(self, where: str, args: tuple[object, ...]) -> LogRecord | None:
        if not self._count:  # the common case: nothing spooled, no query
            return None
        with self._lock:
            row = self._db.execute(
                f"SELECT seq, tenant, event_id, body FROM spooled {where}", args
            ).fetchone()
        return None if row is None else _record(row[0], row[1], row[2], row[3])

    def records(self) -> Iterator[LogRecord]:
        """Every spooled record, in order (recovery while the primary lacks them)."""
        for _, _, entry in self.oldest(-1):
            if isinstance(entry, LogRecord):
                yield entry

    def list_ops(self) -> Iterator[bytes]:
        """Every spooled list operation (within records or alone), in order."""
        for _, _, entry in self.oldest(-1):
            if isinstance(entry, LogRecord):
                yield from entry.list_ops
            else:
                yield entry

    @durable_write
    def probe(self) -> None:
        """A small durable write: whether the spool takes writes."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO probe VALUES (1, zeroblob(4096))")

    def close(self, remove_if_empty: bool = False) -> None:
        """``remove_if_empty``: delete the file too when it holds nothing."""
        with self._lock:
            self._db.close()
        if remove_if_empty and not self._count:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
