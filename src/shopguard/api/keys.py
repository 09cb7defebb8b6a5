"""API keys: each belongs to one tenant and carries scopes (decide, label, admin).

A key is shown once, at creation: ``sg_<id>_<secret>``. Only the SHA-256 of the secret is
stored (the secret is 32 random bytes, so a slow KDF adds nothing), in ``access.db`` in
the data directory. Active keys are cached in memory; revoking one here drops it at once,
and a change made by another process (``shopguard keys create`` / ``revoke``) is seen
within ``RECHECK`` seconds: the cache asks SQLite's ``PRAGMA data_version`` (a counter
that moves when another connection commits; microseconds to read) at most that often and
reloads when it moved. The same keys in PostgreSQL, shared by every worker, are
api/keys_pg.py; both are ``Keys``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Protocol

import msgspec

from shopguard.private import private_file

SCOPES = ("decide", "label", "admin")
RECHECK = 0.5  # seconds between looks for another process's changes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys(id TEXT PRIMARY KEY, tenant TEXT NOT NULL,
  scopes TEXT NOT NULL, digest TEXT NOT NULL, name TEXT NOT NULL, created_at REAL NOT NULL,
  revoked_at REAL)"""


class ApiKey(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    scopes: frozenset[str]
    name: str = ""

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class Keys(Protocol):
    """API keys: made, checked, revoked; ``revision`` moves with every change."""

    def create(self, tenant: str, scopes: list[str], name: str = "") -> tuple[ApiKey, str]: ...
    def verify(self, token: str) -> ApiKey | None: ...
    def revoke(self, kid: str) -> bool: ...
    def active(self) -> list[ApiKey]: ...
    def revision(self) -> int: ...
    def close(self) -> None: ...


def checked_scopes(tenant: str, scopes: list[str]) -> None:
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {scopes}")
    if not tenant:
        raise ValueError("a key belongs to a tenant")


def new_secret() -> tuple[str, str, str]:
    """A key id, its secret, and the secret's digest (all that is stored)."""
    kid, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return kid, secret, hashlib.sha256(secret.encode()).hexdigest()


def matched(token: str, cache: dict[str, tuple[str, ApiKey]]) -> ApiKey | None:
    """The active key ``token`` (``sg_<id>_<secret>``) names, if its secret matches."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "sg":
        return None
    found = cache.get(parts[1])
    if found is None:
        return None
    digest = hashlib.sha256(parts[2].encode()).hexdigest()
    return found[1] if hmac.compare_digest(digest, found[0]) else None


class KeyStore:
    """The keys in ``access.db``."""

    def __init__(self, path: str | Path) -> None:
        private_file(path)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._cache: dict[str, tuple[str, ApiKey]] = {}
        self._version = -1
        self._checked = float("-inf")
        self._fresh()

    def _fresh(self) -> None:
        """Reload if another connection committed since the last look (at most every
        RECHECK seconds; this connection's own changes update the cache directly)."""
        now = time.monotonic()
        if now - self._checked < RECHECK:
            return
        self._checked = now
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version = version
            self._load()

    def _load(self) -> None:
        rows = self._db.execute(
            "SELECT id, tenant, scopes, digest, name FROM api_keys WHERE revoked_at IS NULL"
        )
        self._cache = {
            kid: (digest, ApiKey(kid, tenant, frozenset(scopes.split(",")), name))
            for kid, tenant, scopes, digest, name in rows
        }

    def create(self, tenant: str, scopes: list[str], name: str = "") -> tuple[ApiKey, str]:
        """A new key and its secret (shown once; only its digest is kept)."""
        checked_scopes(tenant, scopes)
        kid, secret, digest = new_secret()
        self._db.execute(
            "INSERT INTO api_keys VALUES (?,?,?,?,?,?,NULL)",
            (kid, tenant, ",".join(sorted(scopes)), digest, name, time.time()),
        )
        key = ApiKey(kid, tenant, frozenset(scopes), name)
        self._cache[kid] = (digest, key)
        return key, f"sg_{kid}_{secret}"

    def verify(self, token: str) -> ApiKey | None:
        if not token.startswith("sg_"):
            return None
        self._fresh()
        return matched(token, self._cache)

    def revoke(self, kid: str) -> bool:
        cursor = self._db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), kid),
        )
        self._cache.pop(kid, None)
        return cursor.rowcount == 1

    def active(self) -> list[ApiKey]:
        self._fresh()
        return [key for _, key in self._cache.values()]

    def revision(self) -> int:
        """Moves when access.db changes (another connection's commit, or a change here)."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        return version + self._db.total_changes

    def close(self) -> None:
        self._db.close()
