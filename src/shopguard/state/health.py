"""Whether the journal takes writes, and what to do while it does not.

A write that fails because the disk is full, the database is locked by another process
or the device errs becomes :class:`~shopguard.errors.StorageUnavailable` (an HTTP 503
with Retry-After). From then on the engine refuses decisions at once, without touching
its state, and probes the journal with a tiny write at most once per interval, from the
next request or readiness check: the first probe that succeeds puts it back in service,
so it recovers by itself once space is freed or the lock released. Failures are logged
one line per kind per interval, with a count of the ones held back: a full disk must not
also fill the log with tracebacks.
"""

from __future__ import annotations

import errno
import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from shopguard.errors import StorageUnavailable

P = ParamSpec("P")
R = TypeVar("R")
_log = logging.getLogger("shopguard.storage")
# SQLite's primary result codes (extended ones share the prefix) that mean "the storage
# cannot take this write now", as opposed to a bug such as a missing table.
_SQLITE_KINDS = (
    ("SQLITE_FULL", "full"),
    ("SQLITE_BUSY", "locked"),
    ("SQLITE_LOCKED", "locked"),
    ("SQLITE_PROTOCOL", "locked"),
    ("SQLITE_IOERR", "io"),
    ("SQLITE_CANTOPEN", "io"),
    ("SQLITE_READONLY", "readonly"),
)
_OS_KINDS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EIO: "io", errno.EROFS: "readonly"}


def storage_error(exc: BaseException) -> StorageUnavailable | None:
    """The StorageUnavailable an error from SQLite or the OS means, or None (a bug)."""
    kind = None
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        kind = next((k for prefix, k in _SQLITE_KINDS if name.startswith(prefix)), None)
    elif isinstance(exc, OSError):
        kind = _OS_KINDS.get(exc.errno or 0)
    return None if kind is None else StorageUnavailable(f"journal: {exc}", kind)


def durable_write(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the storage failures of a journal method into StorageUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            unavailable = storage_error(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    return wrapper


class Throttled:
    """At most one log line per kind every ``every`` seconds; the next line that gets
    through says how many were held back in between."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.every, self.clock = logger, every, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, kind: str, message: str) -> bool:
        """Log ``message`` unless a line of this kind went out less than ``every`` ago."""
        now, last = self.clock(), self._last.get(kind)
        if last is not None and now - last < self.every:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        held = self._held.pop(kind, 0)
        if held and last is not None:
            message += f" ({held} more like this in the last {now - last:.0f}s)"
        self.logger.warning("%s", message)
        self._last[kind] = now
        return True


class WriteHealth:
    """Up, or down since a failed write until a probe (``probe``: a tiny durable write,
    raising StorageUnavailable) succeeds; probes run at most every ``every`` seconds."""

    def __init__(
        self,
        probe: Callable[[], None],
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probe, self.every, self.clock = probe, every, clock
        self.failure: StorageUnavailable | None = None
        self.failed_writes = 0  # in this outage
        self.refused = 0  # requests refused at once in this outage
        self._since = self._next_probe = 0.0
        self.lines = Throttled(_log, max(10.0, every))

    def failed(self, exc: StorageUnavailable) -> None:
        now = self.clock()
        if self.failure is None:
            self._since, self.failed_writes, self.refused = now, 0, 0
        self.failure, self._next_probe = exc, now + self.every
        self.failed_writes += 1
        exc.retry_after = self.every
        self.lines.warning(
            exc.kind, f"write failed ({exc.kind}): {exc}; refusing decisions with 503"
        )

    def succeeded(self) -> None:
        if self.failure is None:
            return
        self.failure = None
        down = self.clock() - self._since
        self.lines.warning(
            "recovered",
            f"journal writes succeed again after {down:.1f}s down"
            f" ({self.failed_writes} failed writes, {self.refused} refused at once)",
        )

    def check(self) -> None:
        """Return while the journal takes writes; else raise StorageUnavailable at once,
        probing it first when a probe is due."""
        failure = self.failure
        if failure is None:
            return
        if self.clock() < self._next_probe:
            self.refused += 1
            raise StorageUnavailable(str(failure), failure.kind, self.every)
        try:
            self.probe()
        except StorageUnavailable as exc:
            self.failed(exc)
            raise
        self.succeeded()

    def problem(self) -> StorageUnavailable | None:
        """What keeps the journal from taking writes now (probing if due), or None."""
        try:
            self.check()
        except StorageUnavailable as exc:
            return exc
        return None
