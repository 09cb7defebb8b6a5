"""What a slow, flooding or guessing client may hold of the server (settings.yaml explains
each): time to send headers and body, open connections, a request budget apart from the
decision one, and how login failures lock a name and an address out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from shopguard.settings import Settings


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    header_timeout: float = 10.0  # seconds from connection (or request start) to headers
    body_timeout: float = 20.0  # seconds from headers to the body's last byte
    max_connections: int = 4096
    max_inflight_public: int = 32  # requests without a valid API key (console, bad keys)
    login_failures: int = 5  # per user name, before each further try waits
    login_failures_per_address: int = 20
    login_lockout: float = 30.0  # the first wait; doubles with each further failure
    login_lockout_max: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        from shopguard.features.spec import parse_duration

        return cls(
            header_timeout=parse_duration(settings.header_timeout),
            body_timeout=parse_duration(settings.body_timeout),
            max_connections=settings.max_connections,
            max_inflight_public=settings.max_inflight_public,
            login_failures=settings.login_failures,
            login_failures_per_address=settings.login_failures_per_address,
            login_lockout=parse_duration(settings.login_lockout),
            login_lockout_max=parse_duration(settings.login_lockout_max),
        )
