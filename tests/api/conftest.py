from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from shopguard.api import KeyStore, create_app
from shopguard.console import UserStore
from shopguard.rules.versions import RulesetStore
from tests.conftest import make_engine


class Api:
    """A served app over a durable engine, with keys for two tenants."""

    def __init__(self, tmp: Path, journal: dict[str, Any] | None = None, **options: Any) -> None:
        """``journal``: the engine's journal settings (default: the SQLite one)."""
        log = journal or {"decision_log": "sqlite"}
        self.engine = make_engine(**log, data_dir=str(tmp))
        self.keys = KeyStore(tmp / "access.db")
        self.shop_admin = self.keys.create("shop", ["admin"])[1]
        self.shop_decide = self.keys.create("shop", ["decide"])[1]
        self.shop_label = self.keys.create("shop", ["label"])[1]
        self.rival = self.keys.create("rival", ["admin"])[1]
        self.rulesets = RulesetStore(tmp / "rulesets.db")
        options.setdefault("operator_tenant", "shop")
        self.users = UserStore(tmp / "access.db")
        self.app = create_app(
            self.engine, self.keys, rulesets=self.rulesets, users=self.users, **options
        )

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Api, TestClient]]:
    served = Api(tmp_path, max_body_bytes=64_000, max_batch=50)
    with TestClient(served.app, raise_server_exceptions=False) as client:
        yield served, client
