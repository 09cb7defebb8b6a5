"""Console users and sessions, kept in access.db beside the API keys.

Passwords are hashed with scrypt (n=2^14, r=8, p=1, 16-byte salt), the memory-hard KDF
in Python's standard library. A login opens a session: a random token in an HttpOnly,
SameSite=Strict cookie (only its SHA-256 is stored) and a CSRF token every form posts.

Hashing takes ~50 ms of CPU, so the server runs it on one or two threads (scrypt releases
the GIL), never on the event loop; the database is only touched from the loop. Setting a
user's password (create again, or ``passwd``, from any process) ends their sessions in
the same transaction; sessions are read from the database on every request, so a running
server sees it at once. The same users in PostgreSQL, shared by every worker, are
console/users_pg.py; both are ``Users``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import msgspec

from shopguard.private import private_file

ROLES = ("analyst", "admin")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users(name TEXT PRIMARY KEY, tenant TEXT NOT NULL,
  role TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS console_sessions(digest TEXT PRIMARY KEY, name TEXT NOT NULL,
  csrf TEXT NOT NULL, expires REAL NOT NULL);
"""


class User(msgspec.Struct, frozen=True):
    name: str
    tenant: str
    role: str
    csrf: str = ""  # the session's CSRF token, when read from a session


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def _checked(password: str) -> str:
    if len(password) < 10:
        raise ValueError("passwords have at least 10 characters")
    return password


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Account = tuple[str, str, bytes, bytes, bool]  # tenant, role, salt, hash, whether it exists


class Users(Protocol):
    """Console users and their sessions; ``revision`` moves when a user changes."""

    session_seconds: float

    def create(self, name: str, tenant: str, role: str, password: str) -> User: ...
    def passwd(self, name: str, password: str) -> bool: ...
    def login(self, name: str, password: str) -> tuple[User, str] | None: ...
    async def sign_in(self, name: str, password: str) -> tuple[User, str] | None: ...
    def session(self, token: str) -> User | None: ...
    def logout(self, token: str) -> None: ...
    def revision(self) -> int: ...
    def close(self) -> None: ...


def new_password(role: str, password: str) -> tuple[bytes, bytes]:
    """(salt, hash) for a user's new password, after checking the role and the password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    salt = secrets.token_bytes(16)
    return salt, _hash(_checked(password), salt)


def unknown() -> Account:
    """What a name nobody has reads as: the same work whether or not the name exists."""
    return "", "", secrets.token_bytes(16), b"\0" * 32, False


def session_tokens() -> tuple[str, str, str]:
    """A session token, its CSRF token, and the token's digest (what is stored)."""
    token = secrets.token_urlsafe(32)
    return token, secrets.token_urlsafe(24), _digest(token)


class Signing:
    """Logging in, either backend: hash on the caller's thread (``login``) or on a small
    pool (``sign_in``); the backend reads the account and opens the session."""

    session_seconds: float
    _hashing: ThreadPoolExecutor | None = None

    def _account(self, name: str) -> Account:
        raise NotImplementedError

    def _open(self, name: str, found: Account, digest: bytes) -> tuple[User, str] | None:
        raise NotImplementedError

    def login(self, name: str, password: str) -> tuple[User, str] | None:
        """(the user with a fresh CSRF token, the session token) or None; hashes on the
        calling thread (the server uses :meth:`sign_in`)."""
        found = self._account(name)
        return self._open(name, found, _hash(password, found[2]))

    async def sign_in(self, name: str, password: str) -> tuple[User, str] | None:
        """:meth:`login` with the hashing on the thread pool, off the event loop."""
        if self._hashing is None:
            # leave a core to the event loop: one hashing thread on two cores, two on more
            workers = min(2, max(1, (os.cpu_count() or 2) - 1))
            self._hashing = ThreadPoolExecutor(workers, thread_name_prefix="scrypt")
        found = self._account(name)
        loop = asyncio.get_running_loop()
        digest = await loop.run_in_executor(self._hashing, _hash, password, found[2])
        return self._open(name, found, digest)

    def _stop_hashing(self) -> None:
        if self._hashing is not None:
            self._hashing.shutdown(wait=False, cancel_futures=True)


class UserStore(Signing):
    """The users in ``access.db``."""

    def __init__(self, path: str | Path, session_seconds: float = 12 * 3600) -> None:
        private_file(path)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self.session_seconds = session_seconds
        self._hashing = None

    def create(self, name: str, tenant: str, role: str, password: str) -> User:
        """A new user, or an existing one replaced (their sessions end)."""
        salt, digest = new_password(role, password)
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO console_users VALUES (?,?,?,?,?,?)",
                (name, tenant, role, salt, digest, time.time()),
            )
            self._db.execute("DELETE FROM console_sessions WHERE name = ?", (name,))
        return User(name, tenant, role)

    def passwd(self, name: str, password: str) -> bool:
        """Set a user's password and end every session they have; False if no such user."""
        salt = secrets.token_bytes(16)
        digest = _hash(_checked(password), salt)
        with self._transaction():
            changed = self._db.execute(
                "UPDATE console_users SET salt = ?, hash = ? WHERE name = ?", (salt, digest, name)
            ).rowcount
            self._db.execute("DELETE FROM console_sessions WHERE name = ?", (name,))
        return changed == 1

    def _account(self, name: str) -> Account:
        row = self._db.execute(
            "SELECT tenant, role, salt, hash FROM console_users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return unknown()
        return row[0], row[1], row[2], row[3], True

    def _open(self, name: str, found: Account, digest: bytes) -> tuple[User, str] | None:
        if not (hmac.compare_digest(digest, found[3]) and found[4]):
            return None
        token, csrf, stored = session_tokens()
        expires = time.time() + self.session_seconds
        opened = self._db.execute(  # none if the password changed while it was hashed
            "INSERT INTO console_sessions SELECT ?,?,?,? WHERE EXISTS"
            " (SELECT 1 FROM console_users WHERE name = ? AND hash = ?)",
            (stored, name, csrf, expires, name, found[3]),
        ).rowcount
        return (User(name, found[0], found[1], csrf), token) if opened == 1 else None

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def session(self, token: str) -> User | None:
        row = self._db.execute(
            "SELECT u.name, u.tenant, u.role, s.csrf FROM console_sessions s"
            " JOIN console_users u ON u.name = s.name WHERE s.digest = ? AND s.expires > ?",
            (_digest(token), time.time()),
        ).fetchone()
        return None if row is None else User(*row)

    def logout(self, token: str) -> None:
        self._db.execute("DELETE FROM console_sessions WHERE digest = ?", (_digest(token),))

    def revision(self) -> int:
        """Moves when access.db changes (another connection's commit, or a change here)."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        return version + self._db.total_changes

    def close(self) -> None:
        self._stop_hashing()
        self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error: a password and the end of its
    sessions land together or not at all."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
