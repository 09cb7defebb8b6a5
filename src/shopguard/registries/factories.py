"""One factory per registry: PostgreSQL when the deployment shares a journal there
(``decision_log: postgres``), else the data directory's SQLite files. Every caller opens
its registry here, so a worker never reads a file its neighbours cannot see."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopguard.api.keys import Keys
    from shopguard.console.users import Users
    from shopguard.model.registry import Models
    from shopguard.registries.feed import ChangeFeed
    from shopguard.rules.trail import Rulesets
    from shopguard.settings import Settings


def shared(settings: Settings) -> bool:
    """Whether the registries live in PostgreSQL (shared by every worker)."""
    return settings.decision_log == "postgres"


def _key(settings: Settings) -> bytes:
    """The audit key that seals the trails' heads (every worker needs the same one)."""
    from shopguard.state.audit import audit_key

    return audit_key(Path(settings.data_dir))


def open_rulesets(settings: Settings) -> Rulesets:
    if shared(settings):
        from shopguard.registries.postgres import Where
        from shopguard.rules.versions_pg import PgRulesets

        return PgRulesets(Where.of(settings), _key(settings))
    from shopguard.rules.versions import RulesetStore

    return RulesetStore(settings.rulesets_path)


def open_keys(settings: Settings) -> Keys:
    if shared(settings):
        from shopguard.api.keys_pg import PgKeys
        from shopguard.registries.postgres import Where

        return PgKeys(Where.of(settings))
    from shopguard.api.keys import KeyStore

    return KeyStore(settings.access_path)


def open_users(settings: Settings, session_seconds: float | None = None) -> Users:
    """Console users; sessions last ``session_seconds`` (default: console_session)."""
    from shopguard.features.spec import parse_duration

    seconds = session_seconds
    if seconds is None:
        seconds = parse_duration(settings.console_session)
    if shared(settings):
        from shopguard.console.users_pg import PgUsers
        from shopguard.registries.postgres import Where

        return PgUsers(Where.of(settings), seconds)
    from shopguard.console.users import UserStore

    return UserStore(settings.access_path, seconds)


def open_models(settings: Settings) -> Models:
    if shared(settings):
        from shopguard.model.registry_pg import PgModels
        from shopguard.registries.postgres import Where

        return PgModels(Where.of(settings), settings.models_path, _key(settings))
    from shopguard.model.registry import ModelRegistry

    return ModelRegistry(settings.models_path)


def open_feed(settings: Settings) -> ChangeFeed | None:
    """A started feed of other workers' changes (None when nothing is shared)."""
    if not shared(settings):
        return None
    from shopguard.registries.feed import ChangeFeed
    from shopguard.registries.postgres import Where

    return ChangeFeed(Where.of(settings)).start()
