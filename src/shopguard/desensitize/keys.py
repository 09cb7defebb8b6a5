"""Keyed pseudonyms: HMAC-SHA256 under a per-tenant key derived from a rotating master key.

A pseudonym is ``<key id>.<32 hex digits>``: 128 bits of the MAC, enough that two
identities never collide in practice, and the key id says which key made it so keys can
rotate (new events use the active key; old pseudonyms age out with their windows).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from shopguard.errors import ConfigError


class KeyRing:
    """Master keys by id, the active id, and the per-tenant HMAC states derived from them."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ConfigError(f"active key id {active!r} has no secret")
        for kid, secret in keys.items():
            if len(secret) < 16:
                raise ConfigError(f"key {kid!r} is shorter than 16 bytes")
            if not kid.isalnum():
                raise ConfigError(f"key id {kid!r} must be alphanumeric")
        self._keys = dict(keys)
        self.active = active
        self._bound: dict[tuple[str, str], Callable[[str, str], str]] = {}

    @classmethod
    def from_settings(cls, keys: dict[str, str], active: str) -> KeyRing:
        return cls({kid: secret.encode() for kid, secret in keys.items()}, active)

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def _state(self, tenant: str, kind: str, kid: str) -> tuple[Any, Any, str]:
        """HMAC-SHA256 (RFC 2104) as precomputed hash states: the inner state has already
        absorbed the padded key and ``kind\\0``, so each pseudonym costs one copy, update
        and digest per side (several times cheaper than ``hmac.new`` per call)."""
        block = self.tenant_key(tenant, kid).ljust(64, b"\0")
        inner = hashlib.sha256(bytes([b ^ 0x36 for b in block]))
        inner.update(f"{kind}\0".encode())
        outer = hashlib.sha256(bytes([b ^ 0x5C for b in block]))
        return inner, outer, kid + "."

    def pseudonym(self, tenant: str, kind: str, value: str, kid: str | None = None) -> str:
        """The pseudonym of a normalized value of an entity kind, for one tenant:
        ``HMAC-SHA256(tenant key, kind \\0 value)``, 128 bits in hex, after the key id."""
        return self.for_tenant(tenant, kid)(kind, value)

    def for_tenant(self, tenant: str, kid: str | None = None) -> Callable[[str, str], str]:
        """``pseudo(kind, value)``: pseudonyms for one tenant under one key (the active
        one by default). The desensitizer takes one per event and calls it per entity."""
        kid = kid or self.active
        bound = self._bound.get((tenant, kid))
        if bound is not None:
            return bound
        states: dict[str, tuple[Any, Any, str]] = {}

        def pseudo(kind: str, value: str) -> str:
            state = states.get(kind)
            if state is None:
                state = states[kind] = self._state(tenant, kind, kid)
            inner, outer, prefix = state
            mac = inner.copy()
            mac.update(value.encode())
            out = outer.copy()
            out.update(mac.digest())
            digest: bytes = out.digest()
            return prefix + digest[:16].hex()

        self._bound[(tenant, kid)] = pseudo
        return pseudo

    def tenant_key(self, tenant: str, kid: str | None = None) -> bytes:
        """The derived per-tenant key (for tests that check against ``hmac``)."""
        return hmac.digest(self._keys[kid or self.active], b"tenant\0" + tenant.encode(), "sha256")
