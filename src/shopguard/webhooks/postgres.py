"""Webhook state in the PostgreSQL journal's schema (``decision_log: postgres``), shared by
every worker: endpoints, deliveries and attempts, the list cursor.

Several delivery workers run side by side and send each message once:
- one worker at a time fans out (a transaction-level advisory lock, tried: the others
  skip it and send), so deliveries' ids are in commit order;
- the alerts outbox (every writer's, ids not in commit order) is fanned out by taking
  rows not yet fanned (``FOR UPDATE SKIP LOCKED``), marking them in the same
  transaction that stages their deliveries;
- list changes are in commit order (``list_ops.gid``, state/postgres/log.py), read after
  a cursor moved in that transaction;
- ``claim`` leases whole endpoints (``leased_until``; rows picked with SKIP LOCKED) and
  their due deliveries, so one worker at a time sends an endpoint's messages, in order;
  ``finish`` ends the lease, a dead worker's runs out (timeout + 30 s) and its messages
  are tried again, with the same webhook-ids.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from shopguard.state.postgres.connect import Conn, connect
from shopguard.state.postgres.schema import lock_id
from shopguard.webhooks.endpoints import Endpoint, EndpointChange, Filters, Kind, NewEndpoint
from shopguard.webhooks.postgres_log import PgDeliveryLog, migrate, rows_of
from shopguard.webhooks.protocol import Route, Source
from shopguard.webhooks.store import Outgoing, webhook_id

_ENDPOINT = (
    "SELECT id, tenant, url, description, kinds, filters, status, disabled_reason, created,"
    " previous_until FROM {s}.webhook_endpoints"
)
_kinds = msgspec.json.Decoder(list[Kind])
_filters = msgspec.json.Decoder(Filters)
_json = msgspec.json.Encoder()


class PgWebhookStore(PgDeliveryLog):
    def __init__(self, dsn: str, schema: str = "shopguard", timeout: float = 2.0) -> None:
        self.dsn, self.schema, self.timeout = dsn, schema, timeout
        self.s = '"' + schema.replace('"', '""') + '"'
        self._conn: Conn | None = None
        self._fan_lock = lock_id(schema, "webhooks-fan-out")
        self.db()

    def db(self) -> Conn:
        """The connection, reopened after a lost one (the tables migrated on first open)."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        conn = connect(self.dsn, self.timeout)
        try:
            migrate(conn, self.schema)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        db = self.db()
        with db.transaction():
            yield db

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- endpoints ---------------------------------------------------------------------
    def create(self, tenant: str, new: NewEndpoint, secret: str, now: float) -> Endpoint:
        endpoint_id = "ep_" + secrets.token_hex(10)
        self.db().execute(
            self._sql(
                "INSERT INTO {s}.webhook_endpoints(id, tenant, url, description, kinds, filters,"
                " secret, status, created) VALUES (%s,%s,%s,%s,%s,%s,%s,'enabled',%s)"
            ),
            (endpoint_id, tenant, new.url, new.description, _json.encode(new.kinds).decode(),
             _json.encode(new.filters).decode(), secret, now),
        )  # fmt: skip
        found = self.endpoint(tenant, endpoint_id)
        assert found is not None
        return found

    def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None:
        row = self.db().execute(
            self._sql(_ENDPOINT + " WHERE tenant = %s AND id = %s"), (tenant, endpoint_id)
        )
        found = row.fetchone()
        return None if found is None else _endpoint(found)

    def endpoints(self, tenant: str | None = None) -> list[Endpoint]:
        """One tenant's endpoints (None: every tenant's, for fan-out)."""
        if tenant is None:
            rows = self.db().execute(self._sql(_ENDPOINT + " ORDER BY created, id"))
        else:
            query = self._sql(_ENDPOINT + " WHERE tenant = %s ORDER BY created, id")
            rows = self.db().execute(query, (tenant,))
        return [_endpoint(r) for r in rows]

    def change(self, tenant: str, endpoint_id: str, change: EndpointChange) -> Endpoint | None:
        sets: dict[str, Any] = {}
        for name in ("url", "description"):
            if getattr(change, name) is not None:
                sets[name] = getattr(change, name)
        for name in ("kinds", "filters"):
            if getattr(change, name) is not None:
                sets[name] = _json.encode(getattr(change, name)).decode()
        if change.status is not None:
            sets["status"] = change.status
            sets["disabled_reason"] = "" if change.status == "enabled" else "disabled by hand"
        if sets:
            assignments = ", ".join(f"{name} = %s" for name in sets)
            with self._write() as db:
                db.execute(
                    self._sql(f"UPDATE {{s}}.webhook_endpoints SET {assignments}")
                    + " WHERE tenant = %s AND id = %s",
                    (*sets.values(), tenant, endpoint_id),
                )
                if change.status == "disabled":
                    self._end_pending(db, endpoint_id, "endpoint disabled")
        return self.endpoint(tenant, endpoint_id)

    def delete(self, tenant: str, endpoint_id: str) -> bool:
        with self._write() as db:
            gone = db.execute(
                self._sql("DELETE FROM {s}.webhook_endpoints WHERE tenant = %s AND id = %s"),
                (tenant, endpoint_id),
            ).rowcount
            if gone:
                self._end_pending(db, endpoint_id, "endpoint deleted")
        return bool(gone)

    def rotate(self, tenant: str, endpoint_id: str, secret: str, until: float) -> bool:
        """A new current secret; the old one keeps signing until ``until``."""
        return bool(
            self.db()
            .execute(
                self._sql(
                    "UPDATE {s}.webhook_endpoints SET previous_secret = secret, secret = %s,"
                    " previous_until = %s WHERE tenant = %s AND id = %s"
                ),
                (secret, until, tenant, endpoint_id),
            )
            .rowcount
        )

    def disable(self, endpoint_id: str, reason: str) -> None:
        """Turn an endpoint off (a 410 Gone): its pending deliveries end as dead."""
        with self._write() as db:
            db.execute(
                self._sql(
                    "UPDATE {s}.webhook_endpoints SET status = 'disabled', disabled_reason = %s"
                    " WHERE id = %s"
                ),
                (reason, endpoint_id),
            )
            self._end_pending(db, endpoint_id, reason)

    # -- fan-out -------------------------------------------------------------------------
    def cursor(self, name: str) -> int | None:
        row = self.db().execute(
            self._sql("SELECT position FROM {s}.webhook_cursors WHERE name = %s"), (name,)
        )
        found = row.fetchone()
        return None if found is None else int(found[0])

    def start_cursor(self, name: str, position: int) -> None:
        self.db().execute(
            self._sql("INSERT INTO {s}.webhook_cursors VALUES (%s, %s) ON CONFLICT DO NOTHING"),
            (name, position),
        )

    def last_list_op(self) -> int:
        row = self.db().execute(self._sql("SELECT COALESCE(MAX(gid), 0) FROM {s}.list_ops"))
        found = row.fetchone()
        return int(found[0]) if found else 0

    def fan_out_batch(self, source: Source, route: Route, limit: int, now: float) -> int:
        with self._write() as db:
            # one fan-out at a time (the other worker sends meanwhile): deliveries' ids
            # are then in commit order, the order an endpoint's messages are sent in
            turn = db.execute("SELECT pg_try_advisory_xact_lock(%s)", (self._fan_lock,)).fetchone()
            if turn is None or not turn[0]:
                return 0
            if source == "outbox":  # not yet fanned out, never a row being fanned out
                found = rows_of(db.execute(self._sql(
                    "SELECT id, payload FROM {s}.outbox WHERE NOT fanned ORDER BY id LIMIT %s"
                    " FOR UPDATE SKIP LOCKED"), (limit,)))  # fmt: skip
            else:  # one worker at a time moves the list cursor
                self.start_cursor("list", self.last_list_op())
                row = db.execute(self._sql(
                    "SELECT position FROM {s}.webhook_cursors WHERE name = 'list'"
                    " FOR UPDATE SKIP LOCKED")).fetchone()  # fmt: skip
                if row is None:  # another worker is moving it
                    return 0
                found = rows_of(db.execute(self._sql(
                    "SELECT gid, op FROM {s}.list_ops WHERE gid > %s AND redacted = 0"
                    " ORDER BY gid LIMIT %s"), (int(row[0]), limit)))  # fmt: skip
            if not found:
                return 0
            rows = route(source, found, now)
            if rows:
                e, tn, src, t, b = (list(c) for c in zip(*rows, strict=True))
                db.execute(
                    self._sql(
                        "INSERT INTO {s}.webhook_deliveries(webhook_id, endpoint, tenant, source,"
                        " type, body, status, due, first_due, created) SELECT *, 'pending', %s,"
                        " %s, %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
                        " %s::text[], %s::bytea[]) ON CONFLICT (webhook_id) DO NOTHING"
                    ),
                    (now, now, now, [webhook_id(*x) for x in zip(e, src, t, strict=True)],
                     e, tn, src, t, b),
                )  # fmt: skip
            ids = [i for i, _ in found]
            if source == "outbox":
                db.execute(
                    self._sql("UPDATE {s}.outbox SET fanned = true WHERE id = ANY(%s)"), (ids,)
                )
                self._settle(db, [f"outbox:{i}" for i in ids], now)
            else:
                db.execute(
                    self._sql("UPDATE {s}.webhook_cursors SET position = %s WHERE name = 'list'"),
                    (ids[-1],),
                )
        return len(found)

    # -- attempts ------------------------------------------------------------------------
    def claim(self, now: float, limit: int, lease: float) -> list[Outgoing]:
        """Due deliveries of endpoints no other worker holds, oldest first per endpoint;
        the endpoints and the deliveries leased for ``lease`` seconds."""
        with self._write() as db:
            leases = (now, now, limit, now + lease)
            held = [str(r[0]) for r in db.execute(self._sql(
                "WITH picked AS (SELECT e.id FROM {s}.webhook_endpoints e WHERE"
                " e.status = 'enabled' AND e.leased_until <= %s AND EXISTS (SELECT 1 FROM"
                " {s}.webhook_deliveries d WHERE d.endpoint = e.id AND d.status = 'pending'"
                " AND d.due <= %s) ORDER BY e.id LIMIT %s FOR UPDATE OF e SKIP LOCKED)"
                " UPDATE {s}.webhook_endpoints e SET leased_until = %s FROM picked"
                " WHERE e.id = picked.id RETURNING e.id"), leases)]  # fmt: skip
            if not held:
                return []
            rows = db.execute(self._sql(
                "SELECT d.id, d.webhook_id, d.endpoint, e.url, d.body, d.attempts, d.first_due,"
                " e.secret, e.previous_secret, e.previous_until, d.source"
                " FROM {s}.webhook_deliveries d JOIN {s}.webhook_endpoints e ON e.id = d.endpoint"
                " WHERE d.endpoint = ANY(%s) AND d.status = 'pending' AND d.due <= %s"
                " ORDER BY d.id LIMIT %s"), (held, now, limit)).fetchall()  # fmt: skip
            db.execute(
                self._sql("UPDATE {s}.webhook_deliveries SET due = %s WHERE id = ANY(%s)"),
                (now + lease, [r[0] for r in rows]),
            )
            idle = sorted(set(held) - {str(r[2]) for r in rows})
            if idle:  # leased, but nothing of theirs fit in this claim
                self.finish(idle)
        out = []
        for r in rows:
            live = [str(r[7])]
            if r[8] and r[9] is not None and r[9] > now:
                live.append(str(r[8]))
            out.append(Outgoing(int(r[0]), r[1], r[2], r[3], bytes(r[4]), int(r[5]), r[6], live,
                                r[10]))  # fmt: skip
        return out

    def finish(self, endpoints: list[str]) -> None:
        if endpoints:
            self.db().execute(
                self._sql("UPDATE {s}.webhook_endpoints SET leased_until = 0 WHERE id = ANY(%s)"),
                (endpoints,),
            )


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        row[0], row[1], row[2], row[3], _kinds.decode(row[4]), _filters.decode(row[5]),
        row[6], row[7], row[8], row[9],
    )  # fmt: skip
