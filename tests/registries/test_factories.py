"""One factory per registry: the data directory's SQLite files by default, PostgreSQL
under ``decision_log: postgres``; the command line goes through them, so a key made with
``shopguard keys create`` on one machine is good on every worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

from typer.testing import CliRunner

from shopguard.api.keys import KeyStore
from shopguard.api.keys_pg import PgKeys
from shopguard.cli import app
from shopguard.console.users import UserStore
from shopguard.console.users_pg import PgUsers
from shopguard.model.registry import ModelRegistry
from shopguard.model.registry_pg import PgModels
from shopguard.registries import open_feed, open_keys, open_models, open_rulesets, open_users
from shopguard.rules.versions import RulesetStore
from shopguard.rules.versions_pg import PgRulesets
from shopguard.settings import load_settings
from tests.registries.schemas import schema, settings_for


def test_a_data_directory_keeps_its_registries_in_sqlite(tmp_path: Path) -> None:
    settings = load_settings(None, {"data_dir": str(tmp_path)}, env={})
    opened: list[Any] = [open_rulesets(settings), open_keys(settings), open_users(settings)]
    kinds = [RulesetStore, KeyStore, UserStore]
    assert [type(store) for store in opened] == kinds
    assert isinstance(open_models(settings), ModelRegistry) and open_feed(settings) is None
    for store in opened:
        store.close()
    assert (tmp_path / "rulesets.db").is_file() and (tmp_path / "access.db").is_file()


def test_a_postgres_deployment_keeps_them_in_its_schema(tmp_path: Path) -> None:
    with schema("factories") as where:
        settings = settings_for(where, tmp_path)
        opened: list[Any] = [
            open_rulesets(settings),
            open_keys(settings),
            open_users(settings),
            open_models(settings),
        ]
        assert [type(store) for store in opened] == [PgRulesets, PgKeys, PgUsers, PgModels]
        feed = open_feed(settings)
        assert feed is not None and feed.listening.wait(5.0)
        feed.close()
        for store in opened:
            store.close()
        assert not (tmp_path / "rulesets.db").exists() and not (tmp_path / "access.db").exists()


def test_keys_made_on_the_command_line_land_in_postgres(tmp_path: Path) -> None:
    with schema("cli") as where:
        env = {"SHOPGUARD_DECISION_LOG": "postgres", "SHOPGUARD_POSTGRES_DSN": where.dsn,
               "SHOPGUARD_POSTGRES_SCHEMA": where.schema}  # fmt: skip
        runner = CliRunner()
        with mock.patch.dict(os.environ, env):
            made = runner.invoke(app, ["keys", "create", "--tenant", "shop", "--scope",
                                       "decide", "--data-dir", str(tmp_path)])  # fmt: skip
        assert made.exit_code == 0, made.output
        secret = made.stdout.strip().splitlines()[0]
        worker = PgKeys(where)  # any worker of the deployment
        found = worker.verify(secret)
        assert found is not None and found.tenant == "shop"
        with mock.patch.dict(os.environ, env):
            gone = runner.invoke(app, ["keys", "revoke", found.id, "--data-dir", str(tmp_path)])
        assert gone.exit_code == 0, gone.output
        worker.stale()
        assert worker.verify(secret) is None
        worker.close()
        assert not (tmp_path / "access.db").exists()
