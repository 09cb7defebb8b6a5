"""One registry's connection to PostgreSQL (psycopg 3): its tables in ``postgres_schema``,
migrated at open under an advisory lock (several workers starting at once migrate once);
every change in one transaction that also bumps the registry's revision counter and
sends ``NOTIFY shopguard_changes`` (delivered only if the change commits); and the head
of a hash-chained trail sealed in the database with the data directory's audit key.

Migrations are numbered steps per registry in ``registry_migrations`` (a name of its
own, so it never meets the journal's). The NOTIFY payload is ``<schema>/<store>:<what>``:
the channel is per database and several deployments (or tests) may share one.
"""

from __future__ import annotations

import hmac
import math
import re
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from shopguard.errors import ConfigError, StorageUnavailable
from shopguard.state.audit import GENESIS, Head, Seal, describe, keyed

CHANNEL = "shopguard_changes"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_COMMON = (
    "CREATE TABLE IF NOT EXISTS registry_migrations(store TEXT NOT NULL, step INTEGER NOT NULL,"
    " at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (store, step))",
    "CREATE TABLE IF NOT EXISTS registry_revisions(store TEXT PRIMARY KEY,"
    " counter BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS registry_heads(chain TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL, head BYTEA NOT NULL, mac BYTEA NOT NULL)",
)
_BUMP = (
    "INSERT INTO registry_revisions VALUES (%s, 1)"
    " ON CONFLICT (store) DO UPDATE SET counter = registry_revisions.counter + 1"
)


class Where(NamedTuple):
    """Which PostgreSQL, which schema, and how long it may take to answer (seconds)."""

    dsn: str
    schema: str
    timeout: float = 2.0

    @classmethod
    def of(cls, settings: Any) -> Where:
        from shopguard.features.spec import parse_duration

        return cls(
            settings.postgres_dsn,
            settings.postgres_schema,
            parse_duration(settings.postgres_timeout),
        )


def connect(where: Where) -> psycopg.Connection[Any]:
    """An autocommit connection whose search_path is the schema; StorageUnavailable (a
    503 to an API caller, one line on the command line) when PostgreSQL does not answer."""
    if not _NAME.fullmatch(where.schema):
        raise ConfigError(f"postgres_schema {where.schema!r}: lower-case letters, digits, _")
    options = f"-c search_path={where.schema} -c statement_timeout={int(where.timeout * 1000)}"
    try:
        return psycopg.connect(
            where.dsn,
            autocommit=True,
            connect_timeout=max(1, math.ceil(where.timeout)),
            options=options,
        )
    except psycopg.Error as exc:
        raise unavailable(exc) from None


def unavailable(exc: psycopg.Error) -> StorageUnavailable:
    return StorageUnavailable(f"PostgreSQL unreachable: {exc}".strip(), "io")


@contextmanager
def answering() -> Iterator[None]:
    """PostgreSQL gone (a connection lost, a statement past postgres_timeout) reads as
    StorageUnavailable: nothing was changed, retry later."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise unavailable(exc) from None


def migrate(db: psycopg.Connection[Any], schema: str, store: str, steps: Sequence[str]) -> None:
    """Create the schema and apply ``store``'s steps not yet applied, one worker at a time."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"shopguard:{schema}",))
        db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for statement in _COMMON:
            db.execute(statement.encode())
        rows = db.execute("SELECT step FROM registry_migrations WHERE store = %s", (store,))
        done = {int(step) for (step,) in rows}
        for number, step in enumerate(steps, start=1):
            if number not in done:
                db.execute(step.encode())
                db.execute("INSERT INTO registry_migrations(store, step) VALUES (%s, %s)",
                           (store, number))  # fmt: skip


class Registry:
    """A registry's connection. Reads and changes go one at a time (a lock: the server
    reads from its event loop and from worker threads)."""

    def __init__(self, where: Where, store: str, steps: Sequence[str], key: bytes = b"") -> None:
        self.where, self.store, self._key = where, store, key
        self.db = connect(where)
        self.lock = threading.RLock()
        self._depth = 0  # open transactions (change, snapshot): no silent reconnect inside
        try:
            with answering():
                migrate(self.db, where.schema, store, steps)
        except BaseException:
            self.db.close()
            raise

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, made again if the last one broke (PostgreSQL restarted)."""
        if self.db.broken or self.db.closed:
            self.db = connect(self.where)
        return self.db

    def _read(self, query: str, params: Sequence[Any]) -> psycopg.Cursor[Any]:
        """A read; outside a transaction, tried once more on a new connection when the
        old one turns out broken (an idle connection cut by a PostgreSQL restart)."""
        try:
            return self._live().execute(query.encode(), params)
        except psycopg.OperationalError:
            if self._depth or not self.db.broken:
                raise
            return self._live().execute(query.encode(), params)

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock, answering():
            return self._read(query, params).fetchall()

    def one(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self.lock, answering():
            return self._read(query, params).fetchone()

    @contextmanager
    def _inside(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def write(self, query: str, params: Sequence[Any] = ()) -> int:
        """One statement on its own, no notice (a session opened or ended); rows changed."""
        with self.lock, answering():
            return self._live().execute(query.encode(), params).rowcount

    @contextmanager
    def change(self, what: str = "", lock: str | None = None) -> Iterator[psycopg.Connection[Any]]:
        """One transaction: the caller's writes, the revision bump and the notice commit
        together. ``lock``: a table held exclusively first (a chain appended one at a
        time by every worker)."""
        with self.lock, answering(), self._live().transaction(), self._inside():
            if lock is not None:
                self.db.execute(
                    sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(lock))
                )
            yield self.db
            self.db.execute(_BUMP, (self.store,))
            notice = f"{self.where.schema}/{self.store}:{what}"
            self.db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, notice))

    @contextmanager
    def snapshot(self) -> Iterator[psycopg.Connection[Any]]:
        """Reads that see one moment of the database (a verify walking several tables)."""
        with self.lock, answering(), self._live().transaction(), self._inside():
            self.db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield self.db

    def revision(self) -> int:
        """How many changes this registry has seen (any worker's): cheap to poll."""
        row = self.one("SELECT counter FROM registry_revisions WHERE store = %s", (self.store,))
        return 0 if row is None else int(row[0])

    # -- sealed heads -------------------------------------------------------------------
    def _mac(self, chain: str, head: Head) -> bytes:
        body = f"{self.where.schema}\0{chain}\0".encode() + struct.pack("<q", head[0]) + head[1]
        return keyed(self._key, b"shopguard-pg-head\0" + body)

    def seal(self, chain: str, head: Head) -> None:
        """Inside :meth:`change`: the chain now ends at ``head`` (MAC'd, same transaction,
        so it cannot disagree with a committed trail). Unsealed without a key."""
        if self._key:
            self.db.execute(
                "INSERT INTO registry_heads VALUES (%s, %s, %s, %s) ON CONFLICT (chain) DO"
                " UPDATE SET position = excluded.position, head = excluded.head,"
                " mac = excluded.mac",
                (chain, head[0], head[1], self._mac(chain, head)),
            )

    def sealed(self, chain: str, head: Head) -> str:
        """What is wrong with a chain now ending at ``head``; empty when it is sealed so."""
        if not self._key:
            return "audit key missing (audit.key): the seals cannot be checked"
        row = self.one("SELECT position, head, mac FROM registry_heads WHERE chain = %s", (chain,))
        if row is None:
            return "" if head == (0, GENESIS) else f"sealed head missing for {chain}"
        position, sealed_hash, mac = int(row[0]), bytes(row[1]), bytes(row[2])
        if not hmac.compare_digest(mac, self._mac(chain, (position, sealed_hash))):
            return "sealed head forged (its MAC is not this audit key's)"
        seal = Seal(0, {chain: (position, sealed_hash)}, {chain: (position, sealed_hash)})
        return describe(chain, head, seal)

    def close(self) -> None:
        with self.lock:
            self.db.close()
