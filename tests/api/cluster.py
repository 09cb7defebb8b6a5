"""A `shopguard serve --workers` cluster for tests: real worker processes over a Redis of
the test's own (killable) and the machine's PostgreSQL (a schema of the test's own), with
clients pinned to one worker, the journal's rows, and events stamped with the time now.

Each answer names its worker (the ``shopguard-worker`` header); the kernel spreads new
connections over the workers (SO_REUSEPORT), so reaching one worker means opening
connections until one lands there and sending on it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import TEST_KEYS
from tests.servers import RedisServer, free_port, redis_server

DSN = "postgresql://postgres@127.0.0.1:5432/test"
WORKER = "shopguard-worker"
PROPAGATE = 1.0  # propagate_every: the promise under test
SLACK = 1.0  # scheduling on a loaded two-core machine; measured figures go in the report


@dataclass
class Cluster:
    url: str
    data: Path
    redis: RedisServer
    schema: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    said: list[str] = field(default_factory=list)

    @property
    def admin(self) -> dict[str, str]:
        return {"x-api-key": (self.data / "admin-key").read_text().strip()}

    def on(self, worker: int, tries: int = 200) -> httpx.Client:
        """A client whose one kept-alive connection is served by ``worker``."""
        for _ in range(tries):
            client = httpx.Client(
                base_url=self.url,
                timeout=10,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            with contextlib.suppress(httpx.TransportError):
                if client.get("/healthz").headers.get(WORKER) == str(worker):
                    return client
            client.close()
        raise AssertionError(f"no connection reached worker {worker}")

    def journal(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(DSN, autocommit=True) as db:
            return db.execute(query.format(s=self.schema), args).fetchall()

    def records(self, event_id: str) -> int:
        rows = self.journal(
            "SELECT count(*) FROM {s}.decisions WHERE tenant = 'shop' AND event_id = %s", event_id
        )
        return int(rows[0][0])


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payment(
    event_id: str, account: str = "u1", card: str = "6222020000001111"
) -> dict[str, object]:
    return {
        "type": "payment",
        "event_id": event_id,
        "tenant": "shop",
        "time": now(),
        "account": account,
        "merchant": "m1",
        "order_id": f"o-{event_id}",
        "amount": 120.0,
        "card": card,
    }


def sms(event_id: str, phone: str) -> dict[str, object]:
    return {
        "type": "sms.send",
        "event_id": event_id,
        "tenant": "shop",
        "time": now(),
        "phone": phone,
    }


def settings_env(redis: RedisServer, schema: str) -> dict[str, str]:
    return {
        "SHOPGUARD_KEYS": "k1:" + TEST_KEYS["k1"],
        "SHOPGUARD_DEFAULT_TENANT": "shop",
        "SHOPGUARD_STATE_STORE": "redis",
        "SHOPGUARD_REDIS_URL": redis.url,
        "SHOPGUARD_REDIS_PREFIX": f"sg-workers-{schema}",
        "SHOPGUARD_DECISION_LOG": "postgres",
        "SHOPGUARD_POSTGRES_DSN": DSN,
        "SHOPGUARD_POSTGRES_SCHEMA": schema,
        "SHOPGUARD_PROPAGATE_EVERY": f"{PROPAGATE}s",
        "SHOPGUARD_WEBHOOKS_DELIVER": "false",
        "SHOPGUARD_HEADER_TIMEOUT": "1s",
        "SHOPGUARD_MODEL": "registry",
        "COLUMNS": "200",
    }


@contextlib.contextmanager
def running_cluster(workdir: Path, workers: int = 2) -> Iterator[Cluster]:
    """`shopguard serve --workers` over a Redis of its own (in ``workdir``) and a
    PostgreSQL schema of its own (dropped after), until it has said it serves."""
    schema = f"sg_workers_{secrets.token_hex(4)}"
    with redis_server(workdir) as redis:
        env = {**os.environ, **settings_env(redis, schema)}
        port, data = free_port(), workdir / "data"
        command = [sys.executable, "-m", "shopguard.cli", "serve", "--workers", str(workers)]
        command += ["--port", str(port), "--data-dir", str(data)]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        found = Cluster(f"http://127.0.0.1:{port}", data, redis, schema, env, process)
        threading.Thread(target=_read_lines, args=(process, found.said), daemon=True).start()
        try:
            wait_for(lambda: any("serving on" in line for line in found.said), 90, found)
            yield found
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            finally:
                process.kill()
                with psycopg.connect(DSN, autocommit=True) as db:
                    db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _read_lines(process: subprocess.Popen[str], into: list[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        into.append(line)


def wait_for(condition: Callable[[], Any], seconds: float, cluster: Cluster | None = None) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        if cluster is not None and cluster.process.poll() is not None:
            raise AssertionError("serve exited: " + "".join(cluster.said))
        time.sleep(0.02)
    raise AssertionError("timed out" + ("" if cluster is None else ": " + "".join(cluster.said)))
