from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.api.conftest import Api

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


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    served = Api(tmp_path)
    served.users.create("ana", "shop", "admin", PASSWORD)
    served.users.create("rex", "rival", "analyst", PASSWORD)
    with TestClient(served.app, raise_server_exceptions=True) as client:
        yield Console(served, client)
