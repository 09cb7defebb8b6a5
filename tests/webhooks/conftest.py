"""A partner's receiver as a real process, and a journal with an endpoint to it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopguard.engine import Engine
from shopguard.webhooks import signing
from shopguard.webhooks.endpoints import Endpoint, Filters, Kind, NewEndpoint
from shopguard.webhooks.protocol import WebhookStorage
from shopguard.webhooks.store import WebhookStore
from shopguard.webhooks.worker import Schedule, Worker, WorkerConfig
from tests.api.conftest import api  # noqa: F401  (the served app, for the API tests)
from tests.conftest import event, make_engine
from tests.console.conftest import console, journal_console  # noqa: F401  (signed-in consoles)
from tests.state.pg import DSN, pg_schema

RECEIVER = Path(__file__).with_name("receiver.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """``receiver.py`` on a port of its own; start, kill and start again."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.secrets = tmp / "secrets.txt"
        self.out = tmp / "received.jsonl"
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self, *options: str) -> None:
        command = [sys.executable, str(RECEIVER), str(self.port), str(self.secrets), str(self.out)]
        self.process = subprocess.Popen([*command, *options], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def trust(self, secrets: str) -> None:
        """The secrets it verifies with (one per line), swapped in whole: the receiver
        re-reads the file per request and must never see it half written."""
        draft = self.secrets.with_suffix(".tmp")
        draft.write_text(secrets)
        draft.replace(self.secrets)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def lines(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines()]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    found = Receiver(tmp_path)
    yield found
    found.kill()


class Bench:
    """A durable engine, the webhook store beside its journal, and a worker. ``schema``:
    the PostgreSQL journal's (and the store's) schema; None: the SQLite journal."""

    def __init__(self, tmp: Path, schema: str | None = None, **settings: Any) -> None:
        self.schema = schema
        self.store: WebhookStorage
        if schema is None:
            self.engine: Engine = make_engine(decision_log="sqlite", data_dir=str(tmp), **settings)
            self.store = WebhookStore(self.engine.settings.journal_path)
        else:
            journal = {"postgres_dsn": DSN, "postgres_schema": schema, **settings}
            self.engine = make_engine(decision_log="postgres", data_dir=str(tmp), **journal)
            self.store = self.pg_store()
        self.clock = Clock()

    def pg_store(self) -> WebhookStorage:
        """Another worker's store on the same schema."""
        from shopguard.webhooks.postgres import PgWebhookStore

        assert self.schema is not None
        return PgWebhookStore(DSN, self.schema, 5.0)

    def worker(
        self,
        delays: tuple[float, ...] = (0.05,),
        window: float = 3600.0,
        jitter: float = 0.0,
        allow_private: bool = True,
        clock: bool = False,
        store: WebhookStorage | None = None,
        concurrency: int = 4,
    ) -> Worker:
        schedule = Schedule(delays, window, jitter)
        config = WorkerConfig(schedule, 5.0, 0.02, concurrency, allow_private)
        if clock:
            return Worker(store or self.store, config, clock=self.clock, rand=lambda: 0.5)
        return Worker(store or self.store, config)

    def endpoint(
        self,
        url: str,
        tenant: str = "shop",
        kinds: list[Kind] | None = None,
        filters: Filters | None = None,
    ) -> tuple[Endpoint, str]:
        secret = signing.new_secret()
        new = NewEndpoint(url, "", kinds or ["alerts"], filters or Filters())
        self.store.start_cursor("list", self.store.last_list_op())
        return self.store.create(tenant, new, secret, time.time()), secret

    def alert(self, event_id: str, at: float = 0.0, tenant: str = "shop", **fields: Any) -> None:
        """A decision the starter pack denies (a scripted client), so an alert."""
        fields.setdefault("account", f"bot-{event_id}")
        sent = event("account.register", event_id, at, user_agent="curl/8", **fields)
        decision = self.engine.decide({**sent, "tenant": tenant})
        assert decision.outcome == "deny", decision

    def column(self, table: str, column: str) -> bytes:
        """Every row's ``column`` of a journal table, joined (either backend)."""
        if self.schema is not None:
            log: Any = self.engine.log
            rows = log.db().execute(f"SELECT {column} FROM {log.s}.{table}").fetchall()
        else:
            rows = self.engine.log.reader().execute(f"SELECT {column} FROM {table}")  # type: ignore[attr-defined]
        return b"".join(bytes(r[0]) for r in rows)

    def undelivered(self) -> int:
        if self.schema is not None:
            log: Any = self.engine.log
            row = (
                log.db()
                .execute(f"SELECT COUNT(*) FROM {log.s}.outbox WHERE delivered_at IS NULL")
                .fetchone()
            )
            return int(row[0])
        db = self.engine.log.reader()  # type: ignore[attr-defined]
        return int(
            db.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]
        )

    def close(self) -> None:
        self.store.close()
        self.engine.close()


class Clock:
    """Time the test moves (starts now, so signatures stay within the receivers' 5 min)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """A bench over either journal (PostgreSQL: a schema of its own, dropped after)."""
    if request.param == "sqlite":
        found = Bench(tmp_path / "data")
        yield found
        found.close()
        return
    with pg_schema("hooks") as schema:
        found = Bench(tmp_path / "data", schema)
        yield found
        found.close()
