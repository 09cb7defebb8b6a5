"""Webhook state in the data directory's journal (decisions.db, its own connection):
endpoints, deliveries and attempts, and the fan-out cursors. Every write is one short
transaction, so the engine's commits (which wait at most journal_busy_timeout for the
lock) never wait long on it, and a restart resumes exactly where delivery stood."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from shopguard.state.schema import WEBHOOKS_SCHEMA
from shopguard.webhooks.endpoints import Endpoint, EndpointChange, Filters, Kind, NewEndpoint
from shopguard.webhooks.log import Attempt, DeliveryLog, DeliveryStatus

if TYPE_CHECKING:
    from shopguard.webhooks.protocol import Route, Source

_ENDPOINT = (
    "SELECT id, tenant, url, description, kinds, filters, status, disabled_reason, created,"
    " previous_until FROM webhook_endpoints"
)
_kinds = msgspec.json.Decoder(list[Kind])
_filters = msgspec.json.Decoder(Filters)
_json = msgspec.json.Encoder()


class Outgoing(msgspec.Struct):
    """A delivery picked for an attempt, with what signing it needs."""

    id: int
    webhook_id: str
    endpoint: str
    url: str
    body: bytes
    attempts: int
    first_due: float
    secrets: list[str]
    source: str


def webhook_id(endpoint: str, source: str, type_: str) -> str:
    """One id per message per endpoint, derived, so fanning out again is a no-op."""
    digest = hashlib.sha256(f"{endpoint}\x1f{source}\x1f{type_}".encode()).hexdigest()
    return f"msg_{digest[:26]}"


class WebhookStore(DeliveryLog):
    def __init__(self, path: str | Path, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(
            str(self.path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(WEBHOOKS_SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    # -- endpoints ---------------------------------------------------------------------
    def create(self, tenant: str, new: NewEndpoint, secret: str, now: float) -> Endpoint:
        endpoint_id = "ep_" + secrets.token_hex(10)
        with self._write() as db:
            db.execute(
                "INSERT INTO webhook_endpoints(id, tenant, url, description, kinds, filters,"
                " secret, status, created) VALUES (?,?,?,?,?,?,?,'enabled',?)",
                (endpoint_id, tenant, new.url, new.description, _json.encode(new.kinds),
                 _json.encode(new.filters), secret, now),
            )  # fmt: skip
        found = self.endpoint(tenant, endpoint_id)
        assert found is not None
        return found

    def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None:
        row = self._db.execute(f"{_ENDPOINT} WHERE tenant = ? AND id = ?", (tenant, endpoint_id))
        found = row.fetchone()
        return None if found is None else _endpoint(found)

    def endpoints(self, tenant: str | None = None) -> list[Endpoint]:
        """One tenant's endpoints (None: every tenant's, for fan-out)."""
        if tenant is None:
            rows = self._db.execute(f"{_ENDPOINT} ORDER BY created, id")
        else:
            rows = self._db.execute(f"{_ENDPOINT} WHERE tenant = ? ORDER BY created, id", (tenant,))
        return [_endpoint(r) for r in rows]

    def change(self, tenant: str, endpoint_id: str, change: EndpointChange) -> Endpoint | None:
        sets: dict[str, Any] = {}
        if change.url is not None:
            sets["url"] = change.url
        if change.description is not None:
            sets["description"] = change.description
        if change.kinds is not None:
            sets["kinds"] = _json.encode(change.kinds)
        if change.filters is not None:
            sets["filters"] = _json.encode(change.filters)
        if change.status is not None:
            sets["status"] = change.status
            sets["disabled_reason"] = "" if change.status == "enabled" else "disabled by hand"
        if sets:
            assignments = ", ".join(f"{name} = ?" for name in sets)
            with self._write() as db:
                db.execute(
                    f"UPDATE webhook_endpoints SET {assignments} WHERE tenant = ? AND id = ?",
                    (*sets.values(), tenant, endpoint_id),
                )
                if change.status == "disabled":
                    _end_pending(db, endpoint_id, "endpoint disabled")
        return self.endpoint(tenant, endpoint_id)

    def delete(self, tenant: str, endpoint_id: str) -> bool:
        with self._write() as db:
            gone = db.execute(
                "DELETE FROM webhook_endpoints WHERE tenant = ? AND id = ?", (tenant, endpoint_id)
            ).rowcount
            if gone:
                _end_pending(db, endpoint_id, "endpoint deleted")
        return bool(gone)

    def rotate(self, tenant: str, endpoint_id: str, secret: str, until: float) -> bool:
        """A new current secret; the old one keeps signing (a second signature) until
        ``until``."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE webhook_endpoints SET previous_secret = secret, secret = ?,"
                    " previous_until = ? WHERE tenant = ? AND id = ?",
                    (secret, until, tenant, endpoint_id),
                ).rowcount
            )

    def disable(self, endpoint_id: str, reason: str) -> None:
        """Turn an endpoint off (a 410 Gone): its pending deliveries end as dead."""
        with self._write() as db:
            db.execute(
                "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?"
                " WHERE id = ?",
                (reason, endpoint_id),
            )
            _end_pending(db, endpoint_id, reason)

    # -- fan-out -------------------------------------------------------------------------
    def cursor(self, name: str) -> int | None:
        row = self._db.execute("SELECT position FROM webhook_cursors WHERE name = ?", (name,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def outbox_after(self, position: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._db.execute(
            "SELECT id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (position, limit)
        )
        return [(int(i), bytes(p)) for i, p in rows]

    def list_ops_after(self, position: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self._db.execute(
            "SELECT id, op FROM list_ops WHERE id > ? AND redacted = 0 ORDER BY id LIMIT ?",
            (position, limit),
        )
        return [(int(i), bytes(op)) for i, op in rows]

    def last_list_op(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM list_ops").fetchone()[0])

    def enqueue(
        self,
        rows: list[tuple[str, str, str, str, bytes]],
        cursor: str,
        position: int,
        now: float,
    ) -> None:
        """Stage deliveries (endpoint, tenant, source, type, body) and move ``cursor`` to
        ``position``, together. Outbox rows that reached no endpoint are done at once."""
        with self._write() as db:
            db.executemany(
                "INSERT OR IGNORE INTO webhook_deliveries(webhook_id, endpoint, tenant, source,"
                " type, body, status, due, first_due, created)"
                " VALUES (?,?,?,?,?,?,'pending',?,?,?)",
                [(webhook_id(e, s, t), e, tn, s, t, b, now, now, now) for e, tn, s, t, b in rows],
            )
            before = db.execute(
                "SELECT position FROM webhook_cursors WHERE name = ?", (cursor,)
            ).fetchone()
            db.execute("INSERT OR REPLACE INTO webhook_cursors VALUES (?, ?)", (cursor, position))
            if cursor == "outbox":
                start = int(before[0]) if before else 0
                for (outbox_id,) in db.execute(
                    "SELECT id FROM outbox WHERE id > ? AND id <= ?", (start, position)
                ).fetchall():
                    _settle(db, f"outbox:{outbox_id}", now)

    def start_cursor(self, name: str, position: int) -> None:
        self._db.execute("INSERT OR IGNORE INTO webhook_cursors VALUES (?, ?)", (name, position))

    def fan_out_batch(self, source: Source, route: Route, limit: int, now: float) -> int:
        """The rows after the source's cursor (one writer: ids are commit order)."""
        read = self.outbox_after if source == "outbox" else self.list_ops_after
        found = read(self.cursor(source) or 0, limit)
        if found:
            self.enqueue(route(source, found, now), source, found[-1][0], now)
        return len(found)

    # -- attempts ------------------------------------------------------------------------
    def claim(self, now: float, limit: int, lease: float) -> list[Outgoing]:
        """Pending deliveries due by ``now``, oldest first, leased for ``lease`` seconds
        (another worker leaves them alone; a crash mid-attempt retries them after)."""
        with self._write() as db:
            rows = db.execute(
                "SELECT d.id, d.webhook_id, d.endpoint, e.url, d.body, d.attempts, d.first_due,"
                " e.secret, e.previous_secret, e.previous_until, d.source"
                " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint"
                " WHERE d.status = 'pending' AND d.due <= ? AND e.status = 'enabled'"
                " ORDER BY d.id LIMIT ?",
                (now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE webhook_deliveries SET due = ? WHERE id = ?",
                [(now + lease, r[0]) for r in rows],
            )
        out = []
        for r in rows:
            live = [str(r[7])]
            if r[8] and r[9] is not None and r[9] > now:
                live.append(str(r[8]))
            out.append(Outgoing(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6], live, r[10]))
        return out

    def record(
        self,
        delivery: Outgoing,
        attempt: Attempt,
        status: DeliveryStatus,
        due: float | None,
    ) -> None:
        """One attempt's outcome: delivered, dead (dead letter), or pending again at
        ``due``; the message's outbox row is done once every delivery of it is."""
        with self._write() as db:
            db.execute(
                "INSERT INTO webhook_attempts(delivery, at, code, error, took_ms)"
                " VALUES (?,?,?,?,?)",
                (delivery.id, attempt.at, attempt.code, attempt.error[:500], attempt.took_ms),
            )
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, due = ?,"
                " last_code = ?, last_error = ?, delivered_at = ? WHERE id = ?",
                (status, due if due is not None else attempt.at, attempt.code,
                 attempt.error[:500], attempt.at if status == "delivered" else None,
                 delivery.id),
            )  # fmt: skip
            if status != "pending":
                _settle(db, delivery.source, attempt.at)

    def finish(self, endpoints: list[str]) -> None:
        """Nothing to hand back: one process delivers from a SQLite journal."""

    def release(self, ids: list[int], like: int) -> None:
        """Claimed deliveries left unsent (their endpoint just failed): due when the
        failed one ``like`` is retried, no attempt counted, order kept."""
        with self._write() as db:
            db.executemany(
                "UPDATE webhook_deliveries SET due = (SELECT due FROM webhook_deliveries"
                " WHERE id = ?) WHERE id = ? AND status = 'pending'",
                [(like, i) for i in ids],
            )


def _settle(db: sqlite3.Connection, source: str, now: float) -> None:
    """Mark an outbox row delivered once no delivery of it is pending."""
    kind, _, number = source.partition(":")
    if kind != "outbox":
        return
    pending = db.execute(
        "SELECT 1 FROM webhook_deliveries WHERE source = ? AND status = 'pending' LIMIT 1",
        (source,),
    ).fetchone()
    if pending is None:
        db.execute(
            "UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            (now, int(number)),
        )


def _end_pending(db: sqlite3.Connection, endpoint_id: str, reason: str) -> None:
    sources = db.execute(
        "SELECT DISTINCT source FROM webhook_deliveries WHERE endpoint = ? AND status = 'pending'",
        (endpoint_id,),
    ).fetchall()
    db.execute(
        "UPDATE webhook_deliveries SET status = 'dead', last_error = ? WHERE endpoint = ?"
        " AND status = 'pending'",
        (reason, endpoint_id),
    )
    for (source,) in sources:
        _settle(db, str(source), time.time())


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        row[0], row[1], row[2], row[3], _kinds.decode(row[4]), _filters.decode(row[5]),
        row[6], row[7], row[8], row[9],
    )  # fmt: skip
