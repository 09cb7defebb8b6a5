"""What the PostgreSQL journal answers: decisions by seq (this writer's, or another's by
its tagged seq) and by event (any writer's), records to replay, list changes in commit
order, and the labels, reports, search, upkeep and snapshots it delegates to
queries.py and upkeep.py. A stored decision is served only if its row holds up to its
commit's MAC'd seal (queries.row_holds)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Any

import msgspec

from shopguard.decision import Decision, decision_decoder
from shopguard.labels import Label, MerchantHealth
from shopguard.state.chain import ChainReport
from shopguard.state.postgres import queries, upkeep
from shopguard.state.postgres.connect import Conn, one, pg_write, snapshot_mac
from shopguard.state.postgres.schema import Partitions
from shopguard.state.protocol import LogRecord
from shopguard.state.search import DecisionQuery, Found

log = logging.getLogger("shopguard.journal")
TAG = 40  # a foreign seq: seq | writer number << TAG
_facts_decoder = msgspec.msgpack.Decoder(dict[str, Any])
ROW = ("seq, tenant, event_id, time, type, outcome, merchant, gross, stake, facts, decision,"
       " body, content, chain, redacted, seal, writer")  # fmt: skip


class JournalReads:
    """The reading half of :class:`~shopguard.state.postgres.log.PostgresDecisionLog`."""

    s: str
    schema: str
    writer: str
    writer_id: int
    parts: Partitions
    _key: bytes
    _rows: list[tuple[Any, ...]]
    _refused: set[tuple[int, int]]
    _seq: int

    def db(self) -> Conn:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def seal_head(
        self, conn: Conn, writer_id: int, writer: str, chain: str, position: int, head: bytes
    ) -> None:
        raise NotImplementedError

    def last_seq(self) -> int:
        return self._seq

    @pg_write
    def decision(self, seq: int) -> Decision | None:
        writer, seq = seq >> TAG or self.writer_id, seq & ((1 << TAG) - 1)
        raw: Any = None
        if writer == self.writer_id:
            for row in self._rows:  # staged in this batch, not yet committed
                if row[0] == seq:
                    raw = row[7]
        if raw is None:
            found = self.db().execute(
                f"SELECT {ROW} FROM {self.s}.decisions WHERE writer = %s AND seq = %s",
                (writer, seq),
            )
            raw = self._checked(found.fetchone())
        return None if raw is None else decision_decoder.decode(raw)

    def _checked(self, row: Any) -> bytes | None:
        """The stored decision of a row whose hashes hold up to its commit's seal, else
        None: a forged decision is never served."""
        if row is None or row[14] == queries.THINNED:
            return None
        if queries.row_holds(self, row):
            return bytes(row[10])
        if (row[16], row[0]) not in self._refused:
            self._refused.add((row[16], row[0]))
            log.error("decision at seq %d of writer %d fails its hash: not served", row[0], row[16])
        return None

    def _first(self, tenant: str, event_id: str, columns: str) -> Any:
        self.commit()
        return (
            self.db()
            .execute(
                f"SELECT {columns} FROM {self.s}.decisions WHERE tenant = %s AND event_id = %s"
                " ORDER BY gid LIMIT 1",
                (tenant, event_id),
            )
            .fetchone()
        )

    @pg_write
    def seq_of(self, tenant: str, event_id: str) -> int | None:
        """Across every writer: another's seq comes back tagged (see the module doc)."""
        row = self._first(tenant, event_id, "writer, seq")
        if row is None:
            return None
        writer, seq = int(row[0]), int(row[1])
        return seq if writer == self.writer_id else seq | writer << TAG

    @pg_write
    def find(self, tenant: str, event_id: str) -> Decision | None:
        raw = self._checked(self._first(tenant, event_id, ROW))
        return None if raw is None else decision_decoder.decode(raw)

    @pg_write
    def facts_of(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        row = self._first(tenant, event_id, "facts")
        return _facts_decoder.decode(row[0]) if row is not None and row[0] else None

    @pg_write
    def records_after(self, seq: int) -> Iterator[LogRecord]:
        """This writer's records after ``seq``, read a page at a time."""
        self.commit()
        while True:
            rows = (
                self.db()
                .execute(
                    "SELECT seq, tenant, event_id, time, type, outcome, facts"
                    f" FROM {self.s}.decisions WHERE writer = %s AND seq > %s AND redacted != 2"
                    " ORDER BY seq LIMIT 2000",
                    (self.writer_id, seq),
                )
                .fetchall()
            )
            for seq_, tenant, event_id, time, type_, outcome, facts in rows:
                yield LogRecord(int(seq_), tenant, event_id, time, type_, int(outcome),
                                _facts_decoder.decode(facts), None)  # fmt: skip
            if len(rows) < 2000:
                return
            seq = int(rows[-1][0])

    @pg_write
    def list_ops(self) -> Iterator[bytes]:
        """Every writer's list changes, in commit order."""
        self.commit()
        rows = self.db().execute(
            f"SELECT op FROM {self.s}.list_ops WHERE redacted = 0 ORDER BY gid"
        )
        return iter([bytes(r[0]) for r in rows])

    def outbox(self) -> list[bytes]:
        rows = self.db().execute(
            f"SELECT payload FROM {self.s}.outbox WHERE delivered_at IS NULL ORDER BY id"
        )
        return [bytes(r[0]) for r in rows]

    # -- labels, reports, search, upkeep (state/postgres/upkeep.py) ------------------------
    @pg_write
    def add_label(self, label: Label) -> None:
        self.commit()
        queries.add_label(self, label)

    @pg_write
    def labels(self, tenant: str) -> Iterator[Label]:
        return iter(queries.labels(self, tenant))

    @pg_write
    def merchant_health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        self.commit()
        return queries.merchant_health(self, tenant, since, until, known_by)

    @pg_write
    def search(self, query: DecisionQuery) -> Found:
        self.commit()
        return queries.search(self, query)

    @pg_write
    def thin(self, before_time: float, upto_seq: int) -> int:
        self.commit()
        return upkeep.thin(self, before_time, upto_seq)

    @pg_write
    def compact(self, before_time: float, upto_seq: int) -> int:
        self.commit()
        return upkeep.compact(self, before_time, upto_seq)

    @pg_write
    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        self.commit()
        return upkeep.erase(self, tenant, kind, value)

    @pg_write
    def size(self) -> tuple[int, int]:
        """(records kept by every writer, bytes of every table and index in the schema)."""
        self.commit()
        count = self.db().execute(f"SELECT COUNT(*) FROM {self.s}.decisions").fetchone()
        used = (
            self.db()
            .execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'm', 't')",
                (self.schema,),
            )
            .fetchone()
        )
        return int(one(count)), int(one(used))

    @pg_write
    def verify(self) -> list[ChainReport]:
        """Every writer's chains, the journal-wide ones, the MAC'd heads and snapshots."""
        from shopguard.state.postgres.verify import verify

        self.commit()
        return verify(self)

    @pg_write
    def save_snapshot(self, seq: int, blob: bytes) -> None:
        self.commit()
        mac = snapshot_mac(self._key, self.writer, seq, blob)
        self.db().execute(
            f"INSERT INTO {self.s}.snapshots VALUES (%s, %s, %s, %s) ON CONFLICT (writer)"
            " DO UPDATE SET seq = excluded.seq, state = excluded.state, mac = excluded.mac",
            (self.writer_id, seq, blob, mac),
        )

    @pg_write
    def load_snapshot(self) -> tuple[int, bytes] | None:
        """This writer's snapshot, if its MAC holds (else None: state is rebuilt)."""
        row = (
            self.db()
            .execute(
                f"SELECT seq, state, mac FROM {self.s}.snapshots WHERE writer = %s",
                (self.writer_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        seq, blob = int(row[0]), bytes(row[1])
        if not hmac.compare_digest(bytes(row[2]), snapshot_mac(self._key, self.writer, seq, blob)):
            log.warning("snapshot at seq %d not used (its MAC does not match): rebuilding", seq)
            return None
        return seq, blob
