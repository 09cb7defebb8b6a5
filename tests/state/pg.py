"""A PostgreSQL schema of its own per test, on the machine's server (127.0.0.1:5432, db
``test``), dropped afterwards; skips when the server is down (fails under CI=true)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg

from tests.servers import need_service

DSN = "postgresql://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def pg_schema(tag: str = "t") -> Iterator[str]:
    need_service("postgresql", 5432)
    schema = f"pglog_{tag}_{secrets.token_hex(4)}"
    try:
        yield schema
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def sql(query: str) -> None:
    """Run one statement as an intruder with write access to the database would."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(query.encode())
