"""KeyStore.verify remembers tokens that verified, and forgets them the moment a key is
revoked here, or at the next look once another process revoked it."""

from __future__ import annotations

from pathlib import Path

from shopguard.api.keys import KeyStore


def test_a_remembered_token_stops_verifying_once_revoked(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "access.db")
    key, token = keys.create("shop", ["decide"])
    assert keys.verify(token) == key and keys.verify(token) == key  # the second: remembered
    assert keys.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    keys.revoke(key.id)
    assert keys.verify(token) is None
    keys.close()


def test_a_revocation_by_another_process_reaches_a_remembered_token(tmp_path: Path) -> None:
    server, other = KeyStore(tmp_path / "access.db"), KeyStore(tmp_path / "access.db")
    key, token = server.create("shop", ["decide"])
    assert server.verify(token) == key
    assert other.revoke(key.id)
    server._checked = float("-inf")  # as if RECHECK seconds had passed
    assert server.verify(token) is None
    server.close()
    other.close()
