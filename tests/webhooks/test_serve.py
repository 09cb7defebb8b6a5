"""End to end as deployed: `shopguard serve` delivers on its own, and `shopguard webhooks
deliver` does the same from the command line; a real receiver checks the signatures."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.api.test_serve import _free_port, _start, _wait_ready
from tests.state.pg import DSN, pg_schema
from tests.webhooks.conftest import Receiver

BENCH = {"webhooks_allow_private": "true", "webhooks_allow_http": "true", "webhooks_poll": "0.05s"}


def _bot(event_id: str) -> dict[str, object]:
    return {"type": "account.register", "event_id": event_id, "tenant": "shop",
            "time": datetime.now(UTC).isoformat(), "account": f"bot-{event_id}",
            "user_agent": "curl/8"}  # fmt: skip


def _until_received(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
    while len(receiver.lines()) < count:
        assert time.monotonic() < deadline, "the receiver got nothing"
        time.sleep(0.05)


def test_the_server_delivers_alerts_it_decides(tmp_path: Path, receiver: Receiver) -> None:
    port = _free_port()
    server = _start(tmp_path, port, stderr=subprocess.PIPE, **BENCH)
    try:
        _wait_ready(port)
        url = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {(tmp_path / 'admin-key').read_text().strip()}"}
        made = httpx.post(f"{url}/v1/webhooks/endpoints", json={"url": receiver.url}, headers=auth)
        assert made.status_code == 201, made.text
        receiver.trust(made.json()["secret"])
        receiver.start()
        for i in range(3):
            decided = httpx.post(f"{url}/v1/decisions", json=_bot(f"s{i}"), headers=auth)
            assert decided.json()["outcome"] == "deny"
        _until_received(receiver, 3)
        log = httpx.get(f"{url}/v1/webhooks/deliveries?status=delivered", headers=auth).json()
        assert len(log["deliveries"]) == 3
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    finally:
        server.kill()
    lines = receiver.lines()
    assert not [line for line in lines if "error" in line]
    assert sorted(line["payload"]["data"]["event_id"] for line in lines) == ["s0", "s1", "s2"]


@pytest.mark.parametrize("journal", ["sqlite", "postgres"])
def test_the_command_line_delivers_once(tmp_path: Path, receiver: Receiver, journal: str) -> None:
    with contextlib.ExitStack() as stack:
        settings = dict(BENCH)
        if journal == "postgres":  # the server and the command line share the schema
            schema = stack.enter_context(pg_schema("hooks4"))
            settings.update(decision_log="postgres", postgres_dsn=DSN, postgres_schema=schema)
        _deliver_from_the_command_line(tmp_path, receiver, settings)


def _deliver_from_the_command_line(
    tmp_path: Path, receiver: Receiver, settings: dict[str, str]
) -> None:
    port = _free_port()
    server = _start(tmp_path, port, stderr=subprocess.PIPE, webhooks_deliver="false", **settings)
    try:
        _wait_ready(port)
        url = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {(tmp_path / 'admin-key').read_text().strip()}"}
        made = httpx.post(f"{url}/v1/webhooks/endpoints", json={"url": receiver.url}, headers=auth)
        receiver.trust(made.json()["secret"])
        receiver.start()
        httpx.post(f"{url}/v1/decisions", json=_bot("c1"), headers=auth)
        env = {**os.environ, **{f"SHOPGUARD_{k.upper()}": v for k, v in settings.items()}}
        command = [sys.executable, "-m", "shopguard.cli", "webhooks", "deliver", "--data-dir",
                   str(tmp_path)]  # fmt: skip
        ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr
        # this run made the attempt (webhooks_deliver: false, the server sent nothing)
        assert "1 attempts; deliveries: 1 delivered" in ran.stderr, ran.stderr
        wide = {**env, "COLUMNS": "200"}
        listing = [*command[:4], "endpoints", "--data-dir", str(tmp_path)]
        listed = subprocess.run(listing, env=wide, capture_output=True, text=True, timeout=60)
        assert made.json()["endpoint"]["id"] in listed.stderr and "whsec_" not in listed.stderr
    finally:
        server.kill()
    assert [line["payload"]["data"]["event_id"] for line in receiver.lines()] == ["c1"]
