"""The ruleset trail on each backend: ``trail.open()`` is a store (again: a restart, or
another worker of the deployment), ``trail.tamper`` edits its tables behind its back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from shopguard.registries.postgres import Where
from shopguard.rules.trail import Rulesets
from shopguard.rules.versions import RulesetStore
from shopguard.state.audit import audit_key
from tests.registries.schemas import BACKENDS, execute, schema


class Trail:
    def __init__(self, kind: str, folder: Path, where: Where | None) -> None:
        self.kind, self.folder, self.where = kind, folder, where
        self.opened: list[Rulesets] = []

    def open(self) -> Rulesets:
        store: Rulesets
        if self.where is None:
            store = RulesetStore(self.folder / "rulesets.db")
        else:
            from shopguard.rules.versions_pg import PgRulesets

            store = PgRulesets(self.where, audit_key(self.folder))
        self.opened.append(store)
        return store

    def tamper(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        """``statement`` names {versions} and {changes}, with ? placeholders."""
        if self.where is None:
            db = sqlite3.connect(self.folder / "rulesets.db")
            db.execute(statement.format(versions="versions", changes="changes"), params)
            db.commit()
            db.close()
        else:
            named = statement.format(versions="ruleset_versions", changes="ruleset_changes")
            execute(self.where, named.replace("?", "%s"), params)


@pytest.fixture(params=BACKENDS)
def trail(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Trail]:
    with ExitStack() as stack:
        where = stack.enter_context(schema("rules")) if request.param == "postgres" else None
        found = Trail(request.param, tmp_path, where)
        yield found
        for store in found.opened:
            store.close()
