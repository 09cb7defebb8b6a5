"""Console users on either backend (access.db, or PostgreSQL shared by every worker): a
session opened on one worker is good on another; a password set anywhere ends the
user's sessions everywhere; logging out ends one session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shopguard.console.users import Users, UserStore
from tests.registries.schemas import BACKENDS, schema

PASSWORD = "correct horse battery"
Opener = Callable[[], Users]


@pytest.fixture(params=BACKENDS)
def open_users(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the users of one deployment: each call is another worker."""
    opened: list[Users] = []
    with ExitStack() as stack:
        if request.param == "postgres":
            from shopguard.console.users_pg import PgUsers

            where = stack.enter_context(schema("users"))

            def make() -> Users:
                opened.append(PgUsers(where, 60.0))
                return opened[-1]
        else:

            def make() -> Users:
                opened.append(UserStore(tmp_path / "access.db", 60.0))
                return opened[-1]

        yield make
        for users in opened:
            users.close()


def test_a_session_opened_on_one_worker_is_good_on_another(open_users: Opener) -> None:
    ours, theirs = open_users(), open_users()
    ours.create("ana", "shop", "analyst", PASSWORD)
    assert theirs.login("ana", "wrong password") is None
    assert theirs.login("bob", PASSWORD) is None
    user, token = asyncio.run(theirs.sign_in("ana", PASSWORD)) or (None, "")
    assert user is not None and (user.tenant, user.role) == ("shop", "analyst") and user.csrf
    assert ours.session(token) == user
    ours.logout(token)
    assert theirs.session(token) is None


def test_a_password_set_anywhere_ends_every_session(open_users: Opener) -> None:
    ours, theirs = open_users(), open_users()
    ours.create("ana", "shop", "admin", PASSWORD)
    first = ours.login("ana", PASSWORD)
    assert first is not None
    revision = ours.revision()
    assert theirs.passwd("ana", "another long password")
    assert ours.revision() != revision
    assert ours.session(first[1]) is None
    assert ours.login("ana", PASSWORD) is None
    assert ours.login("ana", "another long password") is not None
    assert not theirs.passwd("nobody", "another long password")
    with pytest.raises(ValueError, match="10 characters"):
        theirs.passwd("ana", "short")


def test_creating_again_replaces_the_user_and_ends_their_sessions(open_users: Opener) -> None:
    users = open_users()
    users.create("ana", "shop", "analyst", PASSWORD)
    opened = users.login("ana", PASSWORD)
    assert opened is not None
    users.create("ana", "rival", "admin", PASSWORD)
    assert users.session(opened[1]) is None
    again = users.login("ana", PASSWORD)
    assert again is not None and (again[0].tenant, again[0].role) == ("rival", "admin")
    with pytest.raises(ValueError, match="role"):
        users.create("bob", "shop", "root", PASSWORD)
