"""A fresh PostgreSQL schema per test on the machine's own server (127.0.0.1:5432, db
``test``), dropped after; skipped when the server is down (failed under CI=true)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from shopguard.registries.postgres import Where
from tests.servers import need_service

DSN = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


@contextmanager
def schema(name: str = "t") -> Iterator[Where]:
    """A schema of its own (random suffix) for one test; dropped with what is in it."""
    need_service("PostgreSQL", 5432)
    where = Where(DSN, f"pgreg_{name}_{secrets.token_hex(4)}", 5.0)
    try:
        yield where
    finally:
        with psycopg.connect(DSN, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {where.schema} CASCADE")


def execute(where: Where, statement: str, params: tuple[Any, ...] = ()) -> int:
    """Run one statement in the schema as someone with database access (a tamperer)."""
    with psycopg.connect(DSN, autocommit=True, options=f"-c search_path={where.schema}") as db:
        return db.execute(statement.encode(), params).rowcount


def settings_for(where: Where, data_dir: Path) -> Any:
    """Settings of a worker sharing ``where`` (decision_log: postgres)."""
    from shopguard.settings import load_settings

    overrides = {"decision_log": "postgres", "postgres_dsn": where.dsn,
                 "postgres_schema": where.schema, "data_dir": str(data_dir)}  # fmt: skip
    return load_settings(None, overrides, env={})
