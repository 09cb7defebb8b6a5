"""Keys, sessions and files on a running `shopguard serve` (issue 13, hole 7): a key
revoked or created by another process takes effect within a second, the first admin key
reaches only a terminal (or its 0600 file), and every data file is the owner's alone."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shopguard.api import KeyStore
from shopguard.api.keys import RECHECK
from tests.api.test_decisions import _event
from tests.api.test_serve import _free_port, _start, _wait_ready


def _cli(data: Path, *args: str) -> str:
    command = [sys.executable, "-m", "shopguard.cli", *args, "--data-dir", str(data)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    keys = KeyStore(tmp_path / "access.db")
    keys.create("shop", ["admin"])
    keys.close()
    # what an older version left behind: a readable directory and database
    os.chmod(tmp_path, 0o755)
    os.chmod(tmp_path / "access.db", 0o644)
    port = _free_port()
    server = _start(tmp_path, port)
    try:
        _wait_ready(port)
        yield tmp_path, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _decide(url: str, key: str, event_id: str) -> int:
    auth = {"Authorization": f"Bearer {key}"}
    # dated now: a served engine refuses event times far from its clock (docs/events.md)
    now = datetime.now(UTC).isoformat()
    event = _event(event_id, time=now)
    return httpx.post(f"{url}/v1/decisions", json=event, headers=auth).status_code


def test_keys_made_and_revoked_elsewhere_count_within_a_second(
    served: tuple[Path, str],
) -> None:
    data, url = served
    new = _cli(data, "keys", "create", "--tenant", "shop", "--scope", "decide").strip()
    time.sleep(RECHECK + 0.1)  # the server looks again at most every RECHECK (0.5) s
    assert _decide(url, new, "k1") == 200  # no restart needed
    kid = new.split("_")[1]
    assert _decide(url, new, "k2") == 200
    _cli(data, "keys", "revoke", kid)
    time.sleep(RECHECK + 0.1)
    assert _decide(url, new, "k3") == 401


def test_every_data_file_is_the_owners_alone(served: tuple[Path, str]) -> None:
    data, url = served
    new = _cli(data, "keys", "create", "--tenant", "shop", "--scope", "decide").strip()
    time.sleep(RECHECK + 0.1)
    assert _decide(url, new, "f1") == 200
    names = sorted(path.name for path in data.iterdir())
    assert {"access.db", "decisions.db", "decisions.db-wal", "rulesets.db"} <= set(names)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in data.rglob("*")}
    assert all(mode in ("0o600", "0o700") for mode in loose.values()), loose


def test_the_first_admin_key_is_shown_on_a_terminal(tmp_path: Path) -> None:
    terminal, stderr = pty.openpty()
    server = _start(tmp_path, _free_port(), stderr=stderr)
    os.close(stderr)
    shown = b""
    try:
        while b"serving on" not in shown:
            ready, _, _ = select.select([terminal], [], [], 30)
            assert ready, shown
            shown += os.read(terminal, 4096)
    finally:
        server.terminate()
        server.communicate(timeout=30)
        os.close(terminal)
    secret = (tmp_path / "admin-key").read_text().strip()
    assert secret.encode() in shown
