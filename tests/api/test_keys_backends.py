"""API keys on either backend (access.db, or PostgreSQL shared by every worker): made,
checked, revoked; a key made or revoked by another worker counts within ``RECHECK``
seconds, at once when the change feed says so."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shopguard.api.keys import RECHECK, Keys, KeyStore
from tests.registries.schemas import BACKENDS, schema

Opener = Callable[[], Keys]


@pytest.fixture(params=BACKENDS)
def open_keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the keys of one deployment: each call is another worker."""
    opened: list[Keys] = []
    with ExitStack() as stack:
        if request.param == "postgres":
            from shopguard.api.keys_pg import PgKeys

            where = stack.enter_context(schema("keys"))

            def make() -> Keys:
                opened.append(PgKeys(where))
                return opened[-1]
        else:

            def make() -> Keys:
                opened.append(KeyStore(tmp_path / "access.db"))
                return opened[-1]

        yield make
        for keys in opened:
            keys.close()


def test_a_key_is_checked_by_its_secret_and_scopes(open_keys: Opener) -> None:
    keys = open_keys()
    key, secret = keys.create("shop", ["decide"], "checkout")
    assert keys.verify(secret) == key and key.allows("decide") and not key.allows("admin")
    assert keys.verify(secret[:-1] + ("x" if secret[-1] != "x" else "y")) is None
    assert keys.verify("sg_nosuch_secret") is None and keys.verify("Bearer x") is None
    with pytest.raises(ValueError, match="scopes"):
        keys.create("shop", ["root"])
    with pytest.raises(ValueError, match="tenant"):
        keys.create("", ["decide"])
    assert [k.id for k in keys.active()] == [key.id]


def test_a_key_revoked_by_another_worker_is_refused_within_recheck(open_keys: Opener) -> None:
    ours, theirs = open_keys(), open_keys()
    key, secret = theirs.create("shop", ["admin"])
    time.sleep(RECHECK + 0.05)
    assert ours.verify(secret) == key  # made elsewhere, seen here
    revision = ours.revision()
    assert theirs.revoke(key.id) and not theirs.revoke(key.id)
    assert theirs.verify(secret) is None  # at once where it was revoked
    assert ours.revision() != revision
    time.sleep(RECHECK + 0.05)
    assert ours.verify(secret) is None and ours.active() == []


def test_the_feed_makes_a_revocation_count_at_once() -> None:
    from shopguard.api.keys_pg import PgKeys

    with schema("keys") as where:
        ours, theirs = PgKeys(where), PgKeys(where)
        key, secret = theirs.create("shop", ["decide"])
        ours.stale()  # what a ChangeFeed subscriber calls on Change("keys", ...)
        assert ours.verify(secret) == key
        theirs.revoke(key.id)
        ours.stale()
        assert ours.verify(secret) is None
        ours.close()
        theirs.close()
