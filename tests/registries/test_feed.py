"""The registries' PostgreSQL plumbing: a change committed on one connection reaches
another's ChangeFeed within a second (and a rolled-back one never does); notices of
another schema are not ours; workers starting at once migrate once; revisions move."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import psycopg
import pytest

from shopguard.registries import CHANNEL, Change, ChangeFeed
from shopguard.registries.postgres import Registry, Where
from tests.registries.schemas import DSN, schema

STEPS = ("CREATE TABLE things(name TEXT PRIMARY KEY)",)


@pytest.fixture
def where() -> Iterator[Where]:
    with schema("feed") as found:
        yield found


@pytest.fixture
def heard(where: Where) -> Iterator[queue.Queue[Change]]:
    changes: queue.Queue[Change] = queue.Queue()
    feed = ChangeFeed(where)
    feed.subscribe(changes.put, stores=["rulesets", "keys"])
    feed.start(wait=5.0)
    assert feed.listening.is_set()
    yield changes
    feed.close()


def test_a_change_on_one_connection_reaches_another_feed_within_a_second(
    where: Where, heard: queue.Queue[Change]
) -> None:
    registry = Registry(where, "rulesets", STEPS)
    with registry.change("publish:3") as db:
        db.execute("INSERT INTO things VALUES ('a')")
    assert heard.get(timeout=1.0) == Change("rulesets", "publish:3")
    assert registry.revision() == 1
    registry.close()


def test_a_change_rolled_back_is_never_announced(where: Where, heard: queue.Queue[Change]) -> None:
    registry = Registry(where, "keys", STEPS)
    with pytest.raises(psycopg.errors.UniqueViolation), registry.change("revoke:k1") as db:
        db.execute("INSERT INTO things VALUES ('a'), ('a')")
    with registry.change("revoke:k2"):
        pass
    assert heard.get(timeout=1.0) == Change("keys", "revoke:k2")  # k1's never came
    assert registry.revision() == 1
    registry.close()


def test_other_schemas_and_other_stores_are_not_handed_on(
    where: Where, heard: queue.Queue[Change]
) -> None:
    with psycopg.connect(DSN, autocommit=True) as db:
        db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "someone_else/rulesets:publish:1"))
        db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{where.schema}/users:create:ana"))
        db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{where.schema}/keys:create:k9"))
    assert heard.get(timeout=1.0) == Change("keys", "create:k9")
    assert heard.empty()


def test_workers_starting_at_once_migrate_once(where: Where) -> None:
    opened: list[Registry] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(Registry(where, "rulesets", STEPS))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(opened) == 4
    rows = opened[0].rows("SELECT store, step FROM registry_migrations")
    assert rows == [("rulesets", 1)]
    for registry in opened:
        registry.close()


def test_after_losing_its_connection_the_feed_listens_again_and_says_resync(
    where: Where,
) -> None:
    changes: queue.Queue[Change] = queue.Queue()
    feed = ChangeFeed(where, retry_every=0.1)
    feed.subscribe(changes.put, stores=["models"])
    feed.start(wait=5.0)
    with psycopg.connect(DSN, autocommit=True) as db:  # as a PostgreSQL restart would
        db.execute("SELECT pg_terminate_backend(%s)", (feed.backend_pid,))
    assert changes.get(timeout=2.0) == Change("models", "resync")  # notices may be lost
    registry = Registry(where, "models", STEPS)
    with registry.change("promote:m2"):
        pass
    assert changes.get(timeout=1.0) == Change("models", "promote:m2")
    registry.close()
    feed.close()


def test_a_registry_reads_on_after_its_idle_connection_was_cut(where: Where) -> None:
    registry = Registry(where, "rulesets", STEPS)
    with registry.change():
        pass
    with psycopg.connect(DSN, autocommit=True) as db:  # as a PostgreSQL restart would
        db.execute("SELECT pg_terminate_backend(%s)", (registry.db.info.backend_pid,))
    assert registry.revision() == 1  # one more try, on a new connection
    registry.close()


def test_each_registry_announces_its_changes(where: Where) -> None:
    from shopguard.api.keys_pg import PgKeys
    from shopguard.console.users_pg import PgUsers
    from shopguard.rules.versions_pg import PgRulesets

    changes: queue.Queue[Change] = queue.Queue()
    feed = ChangeFeed(where)
    feed.subscribe(changes.put)
    feed.start(wait=5.0)
    rulesets, keys, users = PgRulesets(where, b"k" * 32), PgKeys(where), PgUsers(where)
    version = rulesets.upload("rules: []\n", "ana")
    rulesets.change("publish", "ana", version.number)
    key, _ = keys.create("shop", ["decide"])
    keys.revoke(key.id)
    users.create("ana", "shop", "admin", "a long password")
    heard = [changes.get(timeout=1.0) for _ in range(5)]
    assert heard == [
        Change("rulesets", "upload"),
        Change("rulesets", "publish:1"),
        Change("keys", f"create:{key.id}"),
        Change("keys", f"revoke:{key.id}"),
        Change("users", "create:ana"),
    ]
    for store in (rulesets, keys, users):
        store.close()
    feed.close()
