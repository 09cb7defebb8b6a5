"""Connections to the journal's server, and what its errors mean for a write.

A server that does not answer, restarts, runs out of disk or holds a lock past the
timeout makes a write fail with :class:`~shopguard.errors.StorageUnavailable` (503 +
Retry-After, or the spool), as the SQLite journal's full disk does; anything else (a
missing table, a bad query) is a bug and propagates.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import psycopg
from psycopg import errors
from psycopg.rows import TupleRow

from shopguard.errors import StorageUnavailable
from shopguard.state.audit import keyed

P = ParamSpec("P")
R = TypeVar("R")
Conn = psycopg.Connection[TupleRow]


def connect(dsn: str, timeout: float) -> Conn:
    """An autocommit connection (transactions are explicit), statements cut at ``timeout``."""
    ms = max(1, round(timeout * 1000))
    return psycopg.connect(
        dsn,
        autocommit=True,
        connect_timeout=max(1, round(timeout)),
        options=f"-c statement_timeout={ms} -c lock_timeout={ms}",
    )


def storage_error(exc: BaseException) -> StorageUnavailable | None:
    """The StorageUnavailable a psycopg error means, or None (a bug: let it raise)."""
    if isinstance(exc, errors.DiskFull):
        kind = "full"
    elif isinstance(exc, errors.LockNotAvailable | errors.QueryCanceled | errors.DeadlockDetected):
        kind = "locked"
    elif isinstance(exc, errors.ReadOnlySqlTransaction):
        kind = "readonly"
    elif isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        kind = "io"  # unreachable, restarted, out of resources, connection lost
    else:
        return None
    return StorageUnavailable(f"journal (PostgreSQL): {exc}".strip(), kind)


def pg_write(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the storage failures of a journal method into StorageUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except psycopg.Error as exc:
            unavailable = storage_error(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    return wrapper


def commit_mac(key: bytes, writer: str, seq: int, chain: bytes) -> bytes:
    """The MAC a commit's last record carries for its chain hash (names the writer, so a
    row moved to another writer's chain does not hold)."""
    return keyed(key, b"commit\0" + writer.encode() + b"\0" + struct.pack("<q", seq) + chain)


def head_mac(key: bytes, writer: str, chain: str, position: int, head: bytes) -> bytes:
    body = f"{writer}\0{chain}\0".encode() + struct.pack("<q", position) + head
    return keyed(key, b"head\0" + body)


def snapshot_mac(key: bytes, writer: str, seq: int, blob: bytes) -> bytes:
    return keyed(key, b"snapshot\0" + writer.encode() + b"\0" + struct.pack("<q", seq) + blob)


RUN = struct.Struct("<qq32s")  # a run of seqs dropped from one writer: from, to, chain at to


def pack_runs(runs: list[tuple[int, int, bytes]]) -> bytes:
    return b"".join(RUN.pack(*run) for run in runs)


def unpack_runs(raw: bytes) -> list[tuple[int, int, bytes]]:
    return [RUN.unpack_from(raw, i) for i in range(0, len(raw) - len(raw) % RUN.size, RUN.size)]


def one(row: Any) -> Any:
    """The first column of a row a query must return."""
    if row is None:
        raise psycopg.InterfaceError("no row returned")
    return row[0]
