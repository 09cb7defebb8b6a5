"""API keys in PostgreSQL, shared by every worker (``decision_log: postgres``): the same
rows as access.db's ``api_keys``, cached the same way.

Active keys are cached in memory. A revocation or a new key from another worker reaches
this one within ``RECHECK`` seconds (the cache reads the registry's revision counter, one
row, at most that often), or at once when a ``ChangeFeed`` subscriber calls
:meth:`PgKeys.stale`. While PostgreSQL does not answer the cache keeps serving what it
last read (so a key revoked during an outage stays valid until it returns), and looks
again only every ``OUTAGE_BACKOFF`` seconds, since a look may wait up to
``postgres_timeout`` on the event loop.
"""

from __future__ import annotations

import logging
import time

import psycopg

from shopguard.api.keys import RECHECK, ApiKey, checked_scopes, matched, new_secret
from shopguard.errors import ShopGuardError
from shopguard.registries.postgres import Registry, Where

_log = logging.getLogger("shopguard.api")
OUTAGE_BACKOFF = 5.0  # seconds without a look after one failed
STEPS = (
    "CREATE TABLE api_keys(id TEXT PRIMARY KEY, tenant TEXT NOT NULL, scopes TEXT NOT NULL,"
    " digest TEXT NOT NULL, name TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
    " revoked_at DOUBLE PRECISION)",
)


class PgKeys:
    def __init__(self, where: Where) -> None:
        self._pg = Registry(where, "keys", STEPS)
        self._cache: dict[str, tuple[str, ApiKey]] = {}
        self._revision = -1
        self._checked = float("-inf")
        self._fresh()

    def stale(self) -> None:
        """Reload at the next look (a ChangeFeed heard another worker's change)."""
        self._checked = float("-inf")
        self._revision = -1

    def _fresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < RECHECK:
            return
        self._checked = now
        try:
            revision = self._pg.revision()
            if revision != self._revision:
                rows = self._pg.rows(
                    "SELECT id, tenant, scopes, digest, name FROM api_keys WHERE revoked_at IS NULL"
                )
                self._cache = {
                    kid: (digest, ApiKey(kid, tenant, frozenset(scopes.split(",")), name))
                    for kid, tenant, scopes, digest, name in rows
                }
                self._revision = revision
        except (psycopg.Error, ShopGuardError) as exc:
            # looks run on the server's event loop: while PostgreSQL is away, look less often
            self._checked = now + OUTAGE_BACKOFF
            _log.warning("api keys not reloaded (PostgreSQL: %s); serving the cached ones", exc)

    def create(self, tenant: str, scopes: list[str], name: str = "") -> tuple[ApiKey, str]:
        """A new key and its secret (shown once; only its digest is kept)."""
        checked_scopes(tenant, scopes)
        kid, secret, digest = new_secret()
        with self._pg.change(f"create:{kid}") as db:
            db.execute(
                "INSERT INTO api_keys VALUES (%s, %s, %s, %s, %s, %s, NULL)",
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
        with self._pg.change(f"revoke:{kid}") as db:
            revoked = db.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (time.time(), kid),
            ).rowcount
        self._cache.pop(kid, None)
        return revoked == 1

    def active(self) -> list[ApiKey]:
        self._fresh()
        return [key for _, key in self._cache.values()]

    def revision(self) -> int:
        return self._pg.revision()

    def close(self) -> None:
        self._pg.close()
