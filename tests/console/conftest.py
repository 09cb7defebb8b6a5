from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.conftest import Api
from tests.state.pg import DSN, pg_schema

PASSWORD = "correct horse battery"


class Console:
    def __init__(self, served: Api, client: TestClient) -> None:
        self.served, self.client = served, client

    def login(self, name: str) -> str:
        """Sign in; returns the session's CSRF token."""
        page = self.client.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        form = {"name": name, "password": PASSWORD, "csrf": csrf.group(1)}
        signed_in = self.client.post("/console/login", data=form)
        assert signed_in.status_code == 200, signed_in.text
        token = re.search(r'name="csrf" value="([^"]+)"', signed_in.text)
        assert token is not None
        return token.group(1)


def _console(tmp_path: Path, journal: dict[str, Any] | None = None) -> Iterator[Console]:
    served = Api(tmp_path, journal)
    served.users.create("ana", "shop", "admin", PASSWORD)
    served.users.create("rex", "rival", "analyst", PASSWORD)
    with TestClient(served.app, raise_server_exceptions=True) as client:  # closes the engine
        yield Console(served, client)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    yield from _console(tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def journal_console(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Console]:
    """The console over either journal (PostgreSQL: a schema of its own, dropped after)."""
    if request.param == "sqlite":
        yield from _console(tmp_path)
        return
    with pg_schema("console") as schema:
        journal = {"decision_log": "postgres", "postgres_dsn": DSN, "postgres_schema": schema}
        yield from _console(tmp_path, journal)
