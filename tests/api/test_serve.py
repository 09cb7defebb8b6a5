"""`shopguard serve` as users run it: a real uvicorn process, a generated admin key written
once to a 0600 file, a decision over HTTP, a clean stop on SIGTERM with the decision on
disk."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.api.test_decisions import _event
from tests.conftest import TEST_KEYS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    data: Path, port: int, stderr: int = subprocess.PIPE, **settings: str
) -> subprocess.Popen[str]:
    """``shopguard serve`` in a child process; ``settings`` as SHOPGUARD_<NAME> variables."""
    env = {
        **os.environ,
        "SHOPGUARD_KEYS": "k1:" + TEST_KEYS["k1"],
        "SHOPGUARD_DEFAULT_TENANT": "shop",
        "COLUMNS": "200",
        **{f"SHOPGUARD_{name.upper()}": value for name, value in settings.items()},
    }
    command = [
        sys.executable,
        "-m",
        "shopguard.cli",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    return subprocess.Popen(command, env=env, stderr=stderr, text=True)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become ready")


def test_serve_writes_a_key_once_decides_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    server = _start(tmp_path, port)
    try:
        _wait_ready(port)
        url = f"http://127.0.0.1:{port}"
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
    # stderr is a pipe here (a service's log): the key is in the file, never in the log
    assert "sg_" not in stderr and "admin-key" in stderr, stderr
    path = tmp_path / "admin-key"
    assert path.stat().st_mode & 0o777 == 0o600
    key = re.fullmatch(r"sg_[0-9a-f]+_[\w-]+", path.read_text().strip())
    assert key, path.read_text()
    server = _start(tmp_path, port)
    try:
        _wait_ready(port)
        auth = {"Authorization": f"Bearer {key.group(0)}"}
        now = datetime.now(UTC).isoformat()
        answer = httpx.post(f"{url}/v1/decisions", json=_event("s1", time=now), headers=auth)
        assert answer.status_code == 200 and answer.json()["outcome"] == "allow"
        # served live: an event dated far from the server's clock is refused, naming it
        stale = httpx.post(f"{url}/v1/decisions", json=_event("s2"), headers=auth)
        assert stale.status_code == 422 and stale.json()["field"] == "$.time"
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert server.returncode in (0, -signal.SIGTERM), stderr
    assert "admin-key" not in stderr  # a key is made at the first start only
    with sqlite3.connect(tmp_path / "decisions.db") as db:
        rows = db.execute("SELECT event_id FROM decisions WHERE tenant = 'shop'").fetchall()
        snapshot = db.execute("SELECT seq FROM snapshot").fetchall()
    assert rows == [("s1",)]
    assert snapshot == [(1,)]  # the lifespan's shutdown checkpointed the engine
