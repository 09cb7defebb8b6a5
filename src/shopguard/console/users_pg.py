"""Console users and sessions in PostgreSQL, shared by every worker (``decision_log:
postgres``): a session opened on one worker is good on all of them, and a password set
anywhere ends the user's sessions everywhere in the same transaction (sessions are read
from the database on every request, as with SQLite). Creating a user or setting a
password bumps the revision and NOTIFYs ``users:<name>``.
"""

from __future__ import annotations

import hmac
import secrets
import time

from shopguard.console.users import (
    Account,
    Signing,
    User,
    _checked,
    _digest,
    _hash,
    new_password,
    session_tokens,
    unknown,
)
from shopguard.registries.postgres import Registry, Where

STEPS = (
    "CREATE TABLE console_users(name TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL,"
    " salt BYTEA NOT NULL, hash BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE console_sessions(digest TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " csrf TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX console_sessions_of ON console_sessions(name)",
)


class PgUsers(Signing):
    def __init__(self, where: Where, session_seconds: float = 12 * 3600) -> None:
        self._pg = Registry(where, "users", STEPS)
        self.session_seconds = session_seconds
        self._hashing = None

    def create(self, name: str, tenant: str, role: str, password: str) -> User:
        """A new user, or an existing one replaced (their sessions end)."""
        salt, digest = new_password(role, password)
        with self._pg.change(f"create:{name}") as db:
            db.execute(
                "INSERT INTO console_users VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name)"
                " DO UPDATE SET tenant = excluded.tenant, role = excluded.role,"
                " salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at",
                (name, tenant, role, salt, digest, time.time()),
            )
            db.execute("DELETE FROM console_sessions WHERE name = %s", (name,))
        return User(name, tenant, role)

    def passwd(self, name: str, password: str) -> bool:
        """Set a user's password and end every session they have; False if no such user."""
        salt = secrets.token_bytes(16)
        digest = _hash(_checked(password), salt)
        with self._pg.change(f"passwd:{name}") as db:
            changed = db.execute(
                "UPDATE console_users SET salt = %s, hash = %s WHERE name = %s",
                (salt, digest, name),
            ).rowcount
            db.execute("DELETE FROM console_sessions WHERE name = %s", (name,))
        return changed == 1

    def _account(self, name: str) -> Account:
        row = self._pg.one(
            "SELECT tenant, role, salt, hash FROM console_users WHERE name = %s", (name,)
        )
        if row is None:
            return unknown()
        return row[0], row[1], bytes(row[2]), bytes(row[3]), True

    def _open(self, name: str, found: Account, digest: bytes) -> tuple[User, str] | None:
        if not (hmac.compare_digest(digest, found[3]) and found[4]):
            return None
        token, csrf, stored = session_tokens()
        expires = time.time() + self.session_seconds
        opened = self._pg.write(  # none if the password changed while it was hashed
            "INSERT INTO console_sessions SELECT %s, %s, %s, %s WHERE EXISTS"
            " (SELECT 1 FROM console_users WHERE name = %s AND hash = %s)",
            (stored, name, csrf, expires, name, found[3]),
        )
        return (User(name, found[0], found[1], csrf), token) if opened == 1 else None

    def session(self, token: str) -> User | None:
        row = self._pg.one(
            "SELECT u.name, u.tenant, u.role, s.csrf FROM console_sessions s"
            " JOIN console_users u ON u.name = s.name WHERE s.digest = %s AND s.expires > %s",
            (_digest(token), time.time()),
        )
        return None if row is None else User(*row)

    def logout(self, token: str) -> None:
        self._pg.write("DELETE FROM console_sessions WHERE digest = %s", (_digest(token),))

    def revision(self) -> int:
        return self._pg.revision()

    def close(self) -> None:
        self._stop_hashing()
        self._pg.close()
