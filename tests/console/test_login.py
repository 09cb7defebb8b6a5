"""Console sign-in under attack (issue 13, holes 5 and 7): scrypt runs off the event loop,
failures lock a name and an address out with a doubling wait (429 + Retry-After), and a
password reset from another process ends the sessions opened with the old password."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from shopguard.api.limits import Limits
from shopguard.console import UserStore
from shopguard.console.throttle import LoginThrottle
from tests.api.conftest import Api
from tests.console.conftest import PASSWORD, Console

LOCKOUT = Limits(login_failures=3, login_failures_per_address=6, login_lockout=60.0)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Console]:
    served = Api(tmp_path, limits=LOCKOUT)
    for name in ("ana", "bob", "cyd"):
        served.users.create(name, "shop", "analyst", PASSWORD)
    with TestClient(served.app) as client:
        yield Console(served, client)


def _try(console: Console, name: str, password: str) -> tuple[int, str]:
    page = console.client.get("/console/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"name": name, "password": password, "csrf": csrf}
    answer = console.client.post("/console/login", data=form, follow_redirects=False)
    return answer.status_code, answer.headers.get("retry-after", "")


def test_hashing_leaves_the_event_loop_free(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "access.db")
    users.create("ana", "shop", "analyst", PASSWORD)

    async def flood() -> tuple[int, list[bool]]:
        logins = [asyncio.ensure_future(users.sign_in("ana", PASSWORD)) for _ in range(8)]
        turns = 0  # how often the loop ran something else while eight logins hashed
        while not all(login.done() for login in logins):
            await asyncio.sleep(0)
            turns += 1
        return turns, [login.result() is not None for login in logins]

    turns, signed_in = asyncio.run(flood())
    assert signed_in == [True] * 8
    # hashed on the loop, each login would finish within its first step: a turn or two
    assert turns > 100
    users.close()


def test_failures_lock_a_name_out_even_for_the_right_password(guarded: Console) -> None:
    assert [_try(guarded, "ana", "wrong password!")[0] for _ in range(3)] == [401] * 3
    status, retry = _try(guarded, "ana", PASSWORD)
    assert status == 429 and 55 <= int(retry) <= 60
    assert _try(guarded, "bob", PASSWORD)[0] == 303  # another name is not locked
    metrics = guarded.client.get("/metrics").text
    assert "shopguard_login_lockouts_total 1.0" in metrics


def test_a_success_forgives_the_names_failures(guarded: Console) -> None:
    assert [_try(guarded, "ana", "wrong password!")[0] for _ in range(2)] == [401] * 2
    assert _try(guarded, "ana", PASSWORD)[0] == 303
    assert [_try(guarded, "ana", "wrong password!")[0] for _ in range(2)] == [401] * 2


def test_guessing_many_names_from_one_address_locks_the_address(guarded: Console) -> None:
    names = ["ana", "bob", "cyd", "dee", "eve", "fay"]  # 6: at most 1-2 tries per name
    assert [_try(guarded, name, "wrong password!")[0] for name in names] == [401] * 6
    assert _try(guarded, "bob", PASSWORD)[0] == 429


def test_each_further_failure_doubles_the_wait() -> None:
    now = [1000.0]
    throttle = LoginThrottle(
        Limits(login_failures=2, login_lockout=10, login_lockout_max=45), clock=lambda: now[0]
    )
    waits: list[float] = []
    while len(waits) < 5:
        wait = throttle.attempt("ana", "10.0.0.1")  # 0: a try (which fails); else refused
        if wait:
            waits.append(wait)
            now[0] += wait
    assert waits == [10, 20, 40, 45, 45]
    now[0] += 46  # a quiet spell past the longest wait: forgotten
    assert [throttle.attempt("ana", "10.0.0.1") for _ in range(2)] == [0, 0]


def test_a_password_reset_from_the_cli_ends_old_sessions(console: Console) -> None:
    console.login("ana")
    assert console.client.get("/console", follow_redirects=False).status_code == 200
    data_dir = Path(console.served.engine.settings.data_dir)
    reset = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopguard.cli",
            "users",
            "passwd",
            "--name",
            "ana",
            "--password",
            "a fresh passphrase",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert reset.returncode == 0, reset.stderr
    stale = console.client.get("/console", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"] == "/console/login"
    assert _try(console, "ana", PASSWORD)[0] == 401
    assert _try(console, "ana", "a fresh passphrase")[0] == 303
