"""Console users and sessions, kept in access.db beside the API keys.

Passwords are hashed with scrypt (n=2^14, r=8, p=1, 16-byte salt), the memory-hard KDF
in Python's standard library. A login opens a session: a random token in an HttpOnly,
SameSite=Strict cookie (only its SHA-256 is stored) and a CSRF token every form posts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from pathlib import Path

import msgspec

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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    def __init__(self, path: str | Path, session_seconds: float = 12 * 3600) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self.session_seconds = session_seconds

    def create(self, name: str, tenant: str, role: str, password: str) -> User:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise ValueError("passwords have at least 10 characters")
        salt = secrets.token_bytes(16)
        self._db.execute(
            "INSERT OR REPLACE INTO console_users VALUES (?,?,?,?,?,?)",
            (name, tenant, role, salt, _hash(password, salt), time.time()),
        )
        return User(name, tenant, role)

    def login(self, name: str, password: str) -> tuple[User, str] | None:
        """(the user with a fresh CSRF token, the session token) or None."""
        row = self._db.execute(
            "SELECT tenant, role, salt, hash FROM console_users WHERE name = ?", (name,)
        ).fetchone()
        salt = row[2] if row else secrets.token_bytes(16)  # same work whether or not found
        ok = hmac.compare_digest(_hash(password, salt), row[3] if row else b"\0" * 32)
        if not (row and ok):
            return None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = time.time() + self.session_seconds
        self._db.execute(
            "INSERT INTO console_sessions VALUES (?,?,?,?)", (_digest(token), name, csrf, expires)
        )
        return User(name, row[0], row[1], csrf), token

    def session(self, token: str) -> User | None:
        row = self._db.execute(
            "SELECT u.name, u.tenant, u.role, s.csrf FROM console_sessions s"
            " JOIN console_users u ON u.name = s.name WHERE s.digest = ? AND s.expires > ?",
            (_digest(token), time.time()),
        ).fetchone()
        return None if row is None else User(*row)

    def logout(self, token: str) -> None:
        self._db.execute("DELETE FROM console_sessions WHERE digest = ?", (_digest(token),))

    def close(self) -> None:
        self._db.close()
