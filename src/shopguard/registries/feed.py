"""Changes made by other workers, heard as they commit: ``LISTEN shopguard_changes`` on a
connection of its own, in a daemon thread, handing each notice of this deployment's
schema to the subscribers of its registry.

A notice is lost while the connection is down, so after every (re)connection each
subscriber gets a ``Change(store, "resync")``: reload, something may have moved. A
poller of the registries' ``revision()`` counters needs no feed at all; the feed only
brings the news sooner (well under a second).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

import psycopg

from shopguard.errors import ShopGuardError
from shopguard.registries.postgres import CHANNEL, Where, connect

_log = logging.getLogger("shopguard.registries")
STORES = ("rulesets", "models", "keys", "users")


class Change(NamedTuple):
    """A committed change: the registry (``rulesets``, ``models``, ``keys``, ``users``)
    and what happened (``publish:3``, ``revoke:ab12``...; ``resync`` after a reconnect)."""

    store: str
    what: str


Subscriber = Callable[[Change], None]


class ChangeFeed:
    """``subscribe`` a callback (run on the feed's thread: hand work to your own loop,
    e.g. ``loop.call_soon_threadsafe``), ``start``, ``close``."""

    def __init__(self, where: Where, retry_every: float = 1.0) -> None:
        self.where = where
        self.retry_every = retry_every
        self.listening = threading.Event()  # set while LISTEN is in place
        self._subscribers: list[tuple[frozenset[str] | None, Subscriber]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._db: psycopg.Connection[object] | None = None

    def subscribe(
        self, callback: Subscriber, stores: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``callback`` for changes of ``stores`` (None: all); returns an unsubscribe."""
        entry = (None if stores is None else frozenset(stores), callback)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def start(self, wait: float = 0.0) -> ChangeFeed:
        """Start listening; ``wait`` seconds at most for the LISTEN to be in place."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shopguard-changes", daemon=True)
            self._thread.start()
        if wait:
            self.listening.wait(wait)
        return self

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                self._db = connect(self.where)
                self._db.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                if not first:  # notices sent while we were away are gone: reload
                    for store in STORES:
                        self._hand(Change(store, "resync"))
                first = False
                while not self._stop.is_set():
                    for notice in self._db.notifies(timeout=0.25, stop_after=64):
                        self._heard(notice.payload)
            except (psycopg.Error, ShopGuardError) as exc:
                if not self._stop.is_set():
                    _log.warning("change feed: %s; listening again in %.0fs", exc, self.retry_every)
            finally:
                self.listening.clear()
                if self._db is not None:
                    self._db.close()
                    self._db = None
            first = False
            self._stop.wait(self.retry_every)

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend listening now (None while disconnected)."""
        db = self._db
        return None if db is None else db.info.backend_pid

    def _heard(self, payload: str) -> None:
        schema, _, rest = payload.partition("/")
        if schema != self.where.schema:
            return  # another deployment sharing the database
        store, _, what = rest.partition(":")
        self._hand(Change(store, what))

    def _hand(self, change: Change) -> None:
        with self._lock:
            chosen = [
                cb for stores, cb in self._subscribers if stores is None or change.store in stores
            ]
        for callback in chosen:
            try:
                callback(change)
            except Exception:  # one subscriber's bug must not deafen the others
                _log.exception("change feed subscriber failed on %s", change)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
