"""The errors ShopGuard raises: each names what was wrong and where."""

from __future__ import annotations


class ShopGuardError(Exception):
    """Base class of every error ShopGuard raises on purpose."""


class InvalidEvent(ShopGuardError):
    """An event was rejected at the edge; ``path`` names the offending field ($.a.b)."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.path = path


class InvalidLabel(InvalidEvent):
    """A label was rejected; ``path`` names the offending field."""


class ConfigError(ShopGuardError):
    """A feature, rule, list or policy file is wrong; ``where`` names the item (e.g. a rule id)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class StorageUnavailable(ShopGuardError):
    """The journal could not make a write durable (disk full, database locked, I/O
    error). Nothing of the request was kept, in memory or on disk: retry after
    ``retry_after`` seconds. ``kind`` names the failure: full, locked, io, readonly."""

    def __init__(self, message: str, kind: str = "io", retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.kind, self.retry_after = kind, retry_after


class StateUnavailable(ShopGuardError):
    """The shared state store (Redis) did not answer in time. Nothing of the event was
    applied. Under ``state_unavailable: open`` the engine decides without feature state
    (reason STATE_UNAVAILABLE); under ``closed`` this reaches the caller as a 503 with
    Retry-After ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
