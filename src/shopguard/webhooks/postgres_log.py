"""The PostgreSQL webhook store's tables (migrations of their own, recorded in
``webhook_migrations`` beside the journal's in ``postgres_schema``) and its delivery log
half: each attempt's outcome, what was sent where, redelivery by hand, and pruning."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

import msgspec
from psycopg import sql

from shopguard.state.postgres.connect import Conn
from shopguard.state.postgres.schema import lock_id
from shopguard.state.postgres.schema import migrate as migrate_journal
from shopguard.webhooks.log import Attempt, Delivery, DeliveryStatus
from shopguard.webhooks.store import Outgoing

# Never edit one that has shipped: add the next. {s} is the schema (quoted).
MIGRATIONS: list[str] = [
    """
CREATE TABLE {s}.webhook_endpoints(id text PRIMARY KEY, tenant text NOT NULL,
  url text NOT NULL, description text NOT NULL, kinds text NOT NULL, filters text NOT NULL,
  secret text NOT NULL, previous_secret text, previous_until float8, status text NOT NULL,
  disabled_reason text NOT NULL DEFAULT '', created float8 NOT NULL,
  leased_until float8 NOT NULL DEFAULT 0);
CREATE INDEX webhook_endpoints_tenant ON {s}.webhook_endpoints(tenant, created, id);
CREATE TABLE {s}.webhook_deliveries(id bigserial PRIMARY KEY, webhook_id text NOT NULL UNIQUE,
  endpoint text NOT NULL, tenant text NOT NULL, source text NOT NULL, type text NOT NULL,
  body bytea NOT NULL, status text NOT NULL, attempts int NOT NULL DEFAULT 0,
  due float8 NOT NULL, first_due float8 NOT NULL, last_code int,
  last_error text NOT NULL DEFAULT '', delivered_at float8, created float8 NOT NULL);
CREATE INDEX webhook_due ON {s}.webhook_deliveries(endpoint, due, id) WHERE status = 'pending';
CREATE INDEX webhook_pending_source ON {s}.webhook_deliveries(source) WHERE status = 'pending';
CREATE INDEX webhook_by_tenant ON {s}.webhook_deliveries(tenant, id);
CREATE INDEX webhook_by_endpoint ON {s}.webhook_deliveries(tenant, endpoint, id);
CREATE INDEX webhook_finished ON {s}.webhook_deliveries(created) WHERE status != 'pending';
CREATE TABLE {s}.webhook_attempts(id bigserial PRIMARY KEY, delivery bigint NOT NULL,
  at float8 NOT NULL, code int, error text NOT NULL, took_ms int NOT NULL);
CREATE INDEX webhook_attempts_of ON {s}.webhook_attempts(delivery);
CREATE TABLE {s}.webhook_cursors(name text PRIMARY KEY, position bigint NOT NULL);
""",
]
_DELIVERY = (
    "SELECT id, webhook_id, endpoint, type, status, attempts, due, first_due, last_code,"
    " last_error, delivered_at, created, body FROM {s}.webhook_deliveries"
)
_any = msgspec.json.Decoder()


def migrate(conn: Conn, schema: str) -> int:
    """The journal's migrations (the outbox and list changes it reads), then the store's
    own, each under its advisory lock; returns how many of the store's were applied."""
    migrate_journal(conn, schema)
    s = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(schema, "webhooks-migrate"),))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.webhook_migrations(version int PRIMARY KEY,"
                " applied timestamptz NOT NULL DEFAULT now())"
            ).format(s)
        )
        row = conn.execute(
            sql.SQL("SELECT COALESCE(MAX(version), 0) FROM {}.webhook_migrations").format(s)
        ).fetchone()
        done = int(row[0]) if row else 0
        quoted = s.as_string(conn)
        for version, ddl in enumerate(MIGRATIONS[done:], start=done + 1):
            conn.execute(ddl.format(s=quoted).encode())
            conn.execute(
                sql.SQL("INSERT INTO {}.webhook_migrations(version) VALUES (%s)").format(s),
                (version,),
            )
    return len(MIGRATIONS) - done


class PgDeliveryLog:
    """The store's log half (webhooks/postgres.py holds the connection)."""

    s: str

    def db(self) -> Conn:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def _sql(self, query: str) -> str:
        return query.format(s=self.s)

    def record(
        self, delivery: Outgoing, attempt: Attempt, status: DeliveryStatus, due: float | None
    ) -> None:
        """One attempt's outcome; the message's outbox row is done once all of it is."""
        with self._write() as db:
            db.execute(
                self._sql(
                    "INSERT INTO {s}.webhook_attempts(delivery, at, code, error, took_ms)"
                    " VALUES (%s,%s,%s,%s,%s)"
                ),
                (delivery.id, attempt.at, attempt.code, attempt.error[:500], attempt.took_ms),
            )
            db.execute(
                self._sql(
                    "UPDATE {s}.webhook_deliveries SET status = %s, attempts = attempts + 1,"
                    " due = %s, last_code = %s, last_error = %s, delivered_at = %s WHERE id = %s"
                ),
                (status, due if due is not None else attempt.at, attempt.code,
                 attempt.error[:500], attempt.at if status == "delivered" else None,
                 delivery.id),
            )  # fmt: skip
            if status != "pending":
                self._settle(db, [delivery.source], attempt.at)

    def release(self, ids: list[int], like: int) -> None:
        """Claimed deliveries left unsent (their endpoint just failed): due with ``like``."""
        self.db().execute(
            self._sql(
                "UPDATE {s}.webhook_deliveries SET due = (SELECT due FROM {s}.webhook_deliveries"
                " WHERE id = %s) WHERE id = ANY(%s) AND status = 'pending'"
            ),
            (like, ids),
        )

    def _settle(self, db: Conn, sources: list[str], now: float) -> None:
        """Outbox rows of ``sources`` with no delivery pending are delivered. The rows are
        locked first: two workers finishing a message's last two deliveries at once would
        each see the other's still pending (read committed) and neither settle it; the
        second to lock reads (a statement later, a new snapshot) what the first did."""
        ids = sorted({int(s.partition(":")[2]) for s in sources if s.startswith("outbox:")})
        if ids:
            db.execute(
                self._sql("SELECT id FROM {s}.outbox WHERE id = ANY(%s) ORDER BY id FOR UPDATE"),
                (ids,),
            )
            db.execute(
                self._sql(
                    "UPDATE {s}.outbox o SET delivered_at = %s WHERE o.id = ANY(%s)"
                    " AND o.delivered_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
                    " {s}.webhook_deliveries d WHERE d.source = 'outbox:' || o.id"
                    " AND d.status = 'pending')"
                ),
                (now, ids),
            )

    def _end_pending(self, db: Conn, endpoint_id: str, reason: str) -> None:
        ended = db.execute(
            self._sql(
                "UPDATE {s}.webhook_deliveries SET status = 'dead', last_error = %s"
                " WHERE endpoint = %s AND status = 'pending' RETURNING source, due"
            ),
            (reason, endpoint_id),
        ).fetchall()
        self._settle(db, sorted({str(r[0]) for r in ended}), time.time())

    def deliveries(
        self,
        tenant: str,
        endpoint: str | None = None,
        status: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[Delivery]:
        where, args = ["tenant = %s"], [tenant]
        for column, value in (("endpoint", endpoint), ("status", status)):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if before is not None:
            where.append("id < %s::bigint")
            args.append(str(before))
        rows = self.db().execute(
            f"{_DELIVERY.format(s=self.s)} WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %s",
            (*args, limit),
        )
        return [_delivery(r) for r in rows.fetchall()]

    def delivery(self, tenant: str, delivery_id: int) -> Delivery | None:
        db = self.db()
        row = db.execute(
            f"{_DELIVERY.format(s=self.s)} WHERE tenant = %s AND id = %s", (tenant, delivery_id)
        ).fetchone()
        if row is None:
            return None
        attempts = [
            Attempt(*a)
            for a in db.execute(
                f"SELECT at, code, error, took_ms FROM {self.s}.webhook_attempts"
                " WHERE delivery = %s ORDER BY id",
                (delivery_id,),
            )
        ]
        return msgspec.structs.replace(_delivery(row), attempt_log=attempts)

    def redeliver(self, tenant: str, delivery_id: int, now: float) -> Delivery | None:
        """Send again now, same webhook-id, with a fresh retry window."""
        with self._write() as db:
            db.execute(
                f"UPDATE {self.s}.webhook_deliveries SET status = 'pending', due = %s,"
                " first_due = %s, delivered_at = NULL WHERE tenant = %s AND id = %s",
                (now, now, tenant, delivery_id),
            )
        return self.delivery(tenant, delivery_id)

    def counts(self) -> dict[str, int]:
        rows = self.db().execute(
            f"SELECT status, COUNT(*) FROM {self.s}.webhook_deliveries GROUP BY status"
        )
        return {str(st): int(n) for st, n in rows}

    def prune(self, before: float) -> int:
        """Forget deliveries finished (delivered or dead) before ``before``."""
        with self._write() as db:
            gone = db.execute(
                f"DELETE FROM {self.s}.webhook_deliveries WHERE status != 'pending'"
                " AND created < %s RETURNING id",
                (before,),
            ).fetchall()
            ids = [int(r[0]) for r in gone]
            db.execute(f"DELETE FROM {self.s}.webhook_attempts WHERE delivery = ANY(%s)", (ids,))
        return len(ids)


def _delivery(row: Any) -> Delivery:
    pending = row[4] == "pending"
    return Delivery(
        int(row[0]), row[1], row[2], row[3], row[4], int(row[5]), row[6] if pending else None,
        row[7], row[8], row[9], row[10], row[11], _any.decode(bytes(row[12])),
    )  # fmt: skip


def rows_of(found: Iterable[Any]) -> list[tuple[int, bytes]]:
    return [(int(i), bytes(p)) for i, p in found]
