"""The SQLite decision log (WAL): the embedded engine's durable journal.

One transaction per ``commit``: every record staged since the last commit lands
together, so ``decide`` (commit per event) and ``decide_many`` (commit per batch) both
acknowledge only what is on disk. WAL with ``synchronous=NORMAL`` survives a killed
process (the OS has the pages); ``durability: full`` also survives power loss. Each
commit seals the chains' new heads in ``decisions.db.head`` (state/audit.py: an in-place
write before the commit and one after) and stores a MAC of its last chain hash in that
record's ``seal`` (what serving checks a row against): per commit, not per record.

``begin`` takes the write lock and checks the disk keeps ``min_free`` bytes before the
engine changes anything for a batch, so a lock or a full disk refuses it untouched. A
commit that still fails (the disk filled meanwhile, an I/O error) is rolled back on disk
and in memory alike: the sequence and chain heads go back to the last committed record,
so the next commit continues the chain with no gap (and the head file holds both the
committed and the attempted heads, so no false alarm). Either way the error becomes
StorageUnavailable (state/health.py).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from shopguard.decision import Decision, decision_decoder, decision_encoder
from shopguard.errors import StorageUnavailable
from shopguard.labels import Label, MerchantHealth, event_money, ledger_merchant
from shopguard.labels.label import label_decoder, label_encoder
from shopguard.state import housekeeping
from shopguard.state.audit import HeadFile, Heads, audit_key
from shopguard.state.chain import (
    GENESIS,
    ChainReport,
    body_digest,
    chain_heads,
    decision_content,
    link,
    op_content,
)
from shopguard.state.health import durable_write, storage_error
from shopguard.state.protocol import DECISION_LOGS, LogRecord
from shopguard.state.reports import merchant_health
from shopguard.state.schema import SCHEMA, WEBHOOKS_SCHEMA, migrate
from shopguard.state.search import DecisionQuery, Found, terms
from shopguard.state.verify import ROW as _ROW
from shopguard.state.verify import commit_mac, row_holds, snapshot_mac, verify

T = TypeVar("T")
log = logging.getLogger("shopguard.journal")

_facts_encoder = msgspec.msgpack.Encoder()
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])

_PROBE_BYTES = 256 * 1024  # about what a batch of 256 decisions writes
_INSERT = (
    "INSERT INTO decisions(seq, tenant, event_id, time, type, outcome, facts, decision,"
    " merchant, gross, stake, content, chain, body, seal)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
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
        read_only: bool = False,
    ) -> None:
        """``read_only``: for reports and ``verify`` beside a running server, which must
        not write the head file (nor anything else)."""
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
        migrate(self._db)
        self._db.executescript(SCHEMA + housekeeping.SCHEMA + WEBHOOKS_SCHEMA)
        self._key = audit_key(self.path.parent, create=not read_only)
        self._heads_file = HeadFile(
            self.path.with_name(self.path.name + ".head"), self._key, synchronous == "FULL"
        )
        self._sealed: Heads = chain_heads(self._db)
        if not read_only:
            self._heads_file.open(self._sealed)
        self._refused: set[int] = set()  # seqs whose row failed its hash (logged once)
        self._rows: list[tuple[object, ...]] = []
        self._ops: list[tuple[int, int | None, bytes, bytes, bytes]] = []
        self._alerts: list[tuple[int, bytes]] = []
        self._terms: list[tuple[str, int, str, int]] = []
        # the newest record, or the anchor once compaction deleted every record
        self._seq, self._head = self._sealed["decisions"]
        self._head = self._head or GENESIS  # a record from before the chain
        self._ops_head = self._last_chain("SELECT chain FROM list_ops ORDER BY id DESC LIMIT 1")
        self._ops_id = int(
            self._db.execute("SELECT COALESCE(MAX(id), 0) FROM list_ops").fetchone()[0]
        )
        # as committed: restored on a rollback
        self._heads = (self._head, self._ops_head, self._ops_id)
        self._committed_seq = self._seq

    def _last_chain(self, query: str) -> bytes:
        row = self._db.execute(query).fetchone()
        return GENESIS if row is None or row[0] is None else bytes(row[0])

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
        merchant = ledger_merchant(r.type, r.facts)
        body = body_digest(row[6], row[7])
        content = decision_content((*row[:6], merchant, gross, stake), body)
        self._head = link(self._head, content)
        self._rows.append((*row, merchant, gross, stake, content, self._head, body, None))
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
        self._ops_id += 1
        self._ops.append((self._ops_id, seq, op, content, self._ops_head))

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
        pending = dict(self._sealed)
        if self._rows:
            pending["decisions"] = (self._seq, self._head)
        if self._ops:
            pending["list_ops"] = (self._ops_id, self._ops_head)
        sealing = pending != self._sealed  # not for alerts alone
        try:
            if not db.in_transaction:  # begin() may have opened it already
                db.execute("BEGIN IMMEDIATE")
            if self._rows:  # the commit's last record carries its seal (verify.row_holds)
                mac = commit_mac(self._key, self._seq, self._head)
                self._rows[-1] = (*self._rows[-1][:-1], mac)
            db.executemany(_INSERT, self._rows)
            db.executemany("INSERT OR IGNORE INTO decision_terms VALUES (?,?,?,?)", self._terms)
            if self._ops:
                db.executemany(
                    "INSERT INTO list_ops(id, seq, op, content, chain) VALUES (?,?,?,?,?)",
                    self._ops,
                )
            if self._alerts:
                db.executemany("INSERT INTO outbox(seq, payload) VALUES (?,?)", self._alerts)
            if sealing:  # sealed first: the db then ends at one of the two
                self._heads_file.write(self._sealed, pending)
            db.execute("COMMIT")
            self._heads, self._sealed = (self._head, self._ops_head, self._ops_id), pending
            self._committed_seq = self._seq
        except BaseException as exc:
            self._roll_back()
            unavailable = storage_error(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        finally:
            self._rows, self._ops, self._alerts, self._terms = [], [], [], []
        if sealing:
            self._heads_file.confirm(pending)

    def _roll_back(self) -> None:
        """Undo an open transaction (sqlite may have rolled a full-disk one back itself)
        and bring the sequence and chain heads back to the last committed record."""
        self._end_transaction()
        self._seq = self._committed_seq
        self._head, self._ops_head, self._ops_id = self._heads

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
            raw = self._checked(self._db.execute(f"{_ROW} WHERE seq = ?", (seq,)).fetchone())
        return None if raw is None else decision_decoder.decode(raw)

    def seq_of(self, tenant: str, event_id: str) -> int | None:
        row = self._db.execute(
            "SELECT seq FROM decisions WHERE tenant = ? AND event_id = ? ORDER BY seq LIMIT 1",
            (tenant, event_id),
        ).fetchone()
        return None if row is None else int(row[0])

    def find(self, tenant: str, event_id: str) -> Decision | None:
        self.commit()
        row = self._db.execute(
            f"{_ROW} WHERE tenant = ? AND event_id = ? ORDER BY seq LIMIT 1", (tenant, event_id)
        ).fetchone()
        raw = self._checked(row)
        return None if raw is None else decision_decoder.decode(raw)

    def _checked(self, row: Any) -> bytes | None:
        """The stored decision of a row whose hashes hold, else None: a forged decision
        is never served (state/verify.py ``row_holds``)."""
        if row is None or row[14] == housekeeping.THINNED:
            return None
        if row_holds(self._db, row, self._key):
            return bytes(row[10])
        if row[0] not in self._refused:
            self._refused.add(row[0])
            log.error("decision at seq %d fails its hash: not served (run audit verify)", row[0])
        return None

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
            "FROM decisions WHERE seq > ? AND redacted != 2 ORDER BY seq",
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
        row = (label.tenant, label.event_id, label.kind, label.known_at, label.loss,
               label.merchant, label_encoder.encode(label))  # fmt: skip
        self._sealed_transaction(lambda: housekeeping.add_label(self._db, row))

    def labels(self, tenant: str) -> Iterator[Label]:
        rows = self._db.execute(
            "SELECT label FROM labels WHERE tenant = ? AND redacted = 0 ORDER BY id", (tenant,)
        )
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

    def _sealed_transaction(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one transaction whose new chain heads are sealed before it
        commits (upkeep, labels: rare, so the heads are read back from the tables)."""
        self.commit()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = work()
            pending = chain_heads(db)
            if pending != self._sealed:
                self._heads_file.write(self._sealed, pending)
            db.execute("COMMIT")
        except BaseException:
            self._end_transaction()
            raise
        finally:
            self._sealed = chain_heads(db)  # what is committed, whichever way it went
        self._heads_file.confirm(self._sealed)
        return out

    @durable_write
    def thin(self, before_time: float, upto_seq: int) -> int:
        return self._sealed_transaction(lambda: housekeeping.thin(self._db, before_time, upto_seq))

    @durable_write
    def compact(self, before_time: float, upto_seq: int) -> int:
        deleted = self._sealed_transaction(
            lambda: housekeeping.compact(self._db, before_time, upto_seq)
        )
        if deleted:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # freed pages reused from here
        return deleted

    @durable_write
    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        self.commit()
        self._db.execute("PRAGMA secure_delete = ON")  # overwrite the old bytes, not just unlink
        try:
            counts = self._sealed_transaction(
                lambda: housekeeping.erase(self._db, tenant, kind, value)
            )
        finally:
            self._db.execute("PRAGMA secure_delete = OFF")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and out of the write-ahead log
        return counts

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
        """Recompute the hash chains and check their sealed heads (state/verify.py)."""
        self.commit()
        return verify(self._db, self.path, self._key)

    def adopt(self) -> None:
        """Seal the chains as they are now and clear any alarm: an operator vouches for
        this journal (one from before sealed heads, or one checked by hand)."""
        self.commit()
        self._sealed = chain_heads(self._db)
        self._heads_file.adopt(self._sealed)

    def outbox(self) -> list[bytes]:
        rows = self._db.execute("SELECT payload FROM outbox WHERE delivered_at IS NULL")
        return [bytes(r[0]) for r in rows]

    @durable_write
    def save_snapshot(self, seq: int, blob: bytes) -> None:
        self.commit()
        mac = snapshot_mac(self._key, seq, blob)
        self._db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?, ?)", (seq, blob, mac))

    def load_snapshot(self) -> tuple[int, bytes] | None:
        """The snapshot, if its MAC holds (else None, reported once: state is rebuilt)."""
        row = self._db.execute("SELECT seq, state, mac FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        seq, blob = int(row[0]), bytes(row[1])
        if not hmac.compare_digest(bytes(row[2] or b""), snapshot_mac(self._key, seq, blob)):
            log.warning("snapshot at seq %d not used (its MAC does not match): rebuilding", seq)
            return None
        return seq, blob

    def close(self) -> None:
        self.commit()
        self._heads_file.close()
        self._db.close()


DECISION_LOGS["sqlite"] = SqliteDecisionLog
