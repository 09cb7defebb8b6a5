"""The delivery log: what was sent where, each attempt, redelivery by hand, and the
pruning of finished deliveries once the journal's retention has passed."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Literal

import msgspec

DeliveryStatus = Literal["pending", "delivered", "dead"]
_DELIVERY = (
    "SELECT id, webhook_id, endpoint, type, status, attempts, due, first_due, last_code,"
    " last_error, delivered_at, created, body FROM webhook_deliveries"
)
_any = msgspec.json.Decoder()


class Attempt(msgspec.Struct):
    at: float
    code: int | None  # the HTTP status; None: no answer (refused, timed out...)
    error: str
    took_ms: int


class Delivery(msgspec.Struct):
    """One message to one endpoint: its webhook-id is the same on every attempt."""

    id: int
    webhook_id: str
    endpoint: str
    type: str
    status: DeliveryStatus
    attempts: int
    next_attempt: float | None  # pending: when it is (re)tried
    first_due: float  # the retry window runs from here
    last_code: int | None
    last_error: str
    delivered_at: float | None
    created: float
    payload: dict[str, Any]
    attempt_log: list[Attempt] = []


class Deliveries(msgspec.Struct):
    deliveries: list[Delivery]


class DeliveryLog:
    """The store's log half (webhooks/store.py holds the connection)."""

    _db: sqlite3.Connection

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def deliveries(
        self,
        tenant: str,
        endpoint: str | None = None,
        status: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[Delivery]:
        where, args = ["tenant = ?"], [tenant]
        for column, value in (("endpoint", endpoint), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if before is not None:
            where.append("id < ?")
            args.append(str(before))
        rows = self._db.execute(
            f"{_DELIVERY} WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*args, limit)
        )
        return [_delivery(r) for r in rows.fetchall()]

    def delivery(self, tenant: str, delivery_id: int) -> Delivery | None:
        row = self._db.execute(
            f"{_DELIVERY} WHERE tenant = ? AND id = ?", (tenant, delivery_id)
        ).fetchone()
        if row is None:
            return None
        attempts = [
            Attempt(*a)
            for a in self._db.execute(
                "SELECT at, code, error, took_ms FROM webhook_attempts WHERE delivery = ?"
                " ORDER BY id",
                (delivery_id,),
            )
        ]
        return msgspec.structs.replace(_delivery(row), attempt_log=attempts)

    def redeliver(self, tenant: str, delivery_id: int, now: float) -> Delivery | None:
        """Send again now, same webhook-id, with a fresh retry window."""
        with self._write() as db:
            db.execute(
                "UPDATE webhook_deliveries SET status = 'pending', due = ?, first_due = ?,"
                " delivered_at = NULL WHERE tenant = ? AND id = ?",
                (now, now, tenant, delivery_id),
            )
        return self.delivery(tenant, delivery_id)

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status")
        return {str(s): int(n) for s, n in rows}

    def prune(self, before: float) -> int:
        """Forget deliveries finished (delivered or dead) before ``before``."""
        with self._write() as db:
            db.execute(
                "DELETE FROM webhook_attempts WHERE delivery IN (SELECT id FROM"
                " webhook_deliveries WHERE status != 'pending' AND created < ?)",
                (before,),
            )
            return int(
                db.execute(
                    "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created < ?",
                    (before,),
                ).rowcount
            )


def _delivery(row: Any) -> Delivery:
    pending = row[4] == "pending"
    return Delivery(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6] if pending else None, row[7],
        row[8], row[9], row[10], row[11], _any.decode(row[12]),
    )  # fmt: skip
