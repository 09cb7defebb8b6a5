"""Helpers of the PostgreSQL outage tests: a journal on a server the test starts itself
(so it can SIGKILL and restart it), engines journaling to it through the spool, and what
the server holds, read straight from its tables."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg

from shopguard import Engine
from shopguard.state.audit import audit_key
from shopguard.state.postgres.log import PostgresDecisionLog
from shopguard.state.spool import SpoolingLog
from tests.servers import PostgresServer
from tests.state.worker import KEYS


def journal(
    server: PostgresServer, data_dir: Path, schema: str, writer: str, read_only: bool = False
) -> Any:
    key = audit_key(data_dir, create=True)
    return PostgresDecisionLog(
        server.dsn, schema, timeout=2.0, writer=writer, key=key, read_only=read_only
    )


def spooling_engine(
    server: PostgresServer,
    data_dir: Path,
    schema: str,
    writer: str = "w1",
    background: bool = True,
    drain_every: float = 0.02,
) -> Engine:
    """An engine on memory state journaling to ``server`` through the spool."""
    data_dir.mkdir(parents=True, exist_ok=True)
    primary = journal(server, data_dir, schema, writer)
    log = SpoolingLog(primary, data_dir / "spool", "NORMAL", drain_every, background)
    return Engine.from_config(data_dir=str(data_dir), keys=KEYS, journal_probe_every="0s", log=log)


def configured_engine(
    server: PostgresServer, data_dir: Path, schema: str, writer: str, **overrides: Any
) -> Engine:
    """An engine built from settings alone (decision_log postgres, spool per ``spool``)."""
    return Engine.from_config(
        data_dir=str(data_dir),
        keys=KEYS,
        journal_probe_every="0s",
        decision_log="postgres",
        postgres_dsn=server.dsn,
        postgres_schema=schema,
        writer=writer,
        spool_drain_every="0.02s",
        **overrides,
    )


def held(server: PostgresServer, schema: str) -> list[tuple[str, int, str]]:
    """Every decision the server holds: (writer, seq, event id), in each writer's order."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT w.name, d.seq, d.event_id FROM "{schema}".decisions d'
            f' JOIN "{schema}".writers w ON w.id = d.writer ORDER BY w.name, d.seq'
        ).fetchall()
    return [(str(w), int(s), str(e)) for w, s, e in rows]


def spooled(data_dir: Path, writer: str = "w1") -> int:
    """Entries in the writer's spool file (read beside the process writing it)."""
    path = data_dir / "spool" / f"{writer}.db"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        return int(db.execute("SELECT COUNT(*) FROM spooled").fetchone()[0])


def kill(server: PostgresServer) -> None:
    """SIGKILL the server and wait until its backends are gone too: a backend outlives
    its postmaster for a moment and could still commit a batch the test counts on
    being refused or spooled."""
    assert server.proc is not None
    backends = _children(server.proc.pid)
    server.kill()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in backends):
        if time.monotonic() > deadline:
            raise TimeoutError(f"backends {backends} outlived their server")
        time.sleep(0.005)


def _children(parent: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie runs nothing


def ensure_up(server: PostgresServer) -> None:
    if server.proc is None or server.proc.poll() is not None:
        server.start()
