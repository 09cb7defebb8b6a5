"""Chain heads sealed outside the database, under a key the database does not hold.

The hash chains (state/chain.py) show an edit in the middle of a journal, but anyone who
can write the database can rewrite a chain from the edit onwards, cut its newest records
or forge a compaction anchor. So each store keeps its chains' heads in a small *head
file* beside it, MAC'd (HMAC-SHA256) with the data directory's ``audit.key`` (32 random
bytes, mode 0600, made on first use like the pseudonymization key). ``verify`` then
checks that each chain ends where the sealed head says.

A head is sealed *before* the database commit, as a pair: ``confirmed`` (the heads as
committed so far) and ``pending`` (the heads this commit will leave), and once more after
it, as the new heads alone. After a crash or a failed commit the database ends at one of
the two, so neither a killed process nor a full disk raises a false alarm, while a record
appended without the key (which a "head one commit behind" rule would have to excuse)
matches neither, nor does a journal whose newest commit was deleted once it is confirmed.
The file has two fixed slots written in turn (``pwrite`` in place: no new blocks, so a full
disk cannot fail it, and a torn write spoils only the slot being written); the valid slot
with the higher counter wins. A store that opens on a database not ending at its seal
writes the mismatch into every later seal (``alarm``), so restarting over a tampered
database does not bless it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import struct
from pathlib import Path
from typing import Any

import msgspec

GENESIS = bytes(32)
KEY_FILE = "audit.key"
_SLOT = 4096  # one slot per page: a torn write cannot reach the other slot
_MAGIC = b"SGH1"
Head = tuple[int, bytes]  # (position: seq or id of the newest record, its chain hash)
Heads = dict[str, Head]


class Seal(msgspec.Struct, array_like=True):
    counter: int
    confirmed: Heads
    pending: Heads
    alarm: str = ""  # sticky: set when a store opened on a database that did not match


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Seal)


def audit_key(folder: Path, create: bool = True) -> bytes:
    """The data directory's audit key; generated (0600) on first use (else b"")."""
    path = folder / KEY_FILE
    if not path.exists() and not create:
        return b""
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return bytes.fromhex(path.read_text().strip())
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text().strip())


def describe(name: str, head: Head | None, seal: Seal) -> str:
    """Empty when the chain ``name`` ends at its sealed head (or at the pending one);
    else what happened to it, in words."""
    sealed = seal.confirmed.get(name, (0, GENESIS)), seal.pending.get(name, (0, GENESIS))
    head = head or (0, GENESIS)
    if head in sealed:
        return ""
    low, high = min(s[0] for s in sealed), max(s[0] for s in sealed)
    if head[0] < low:
        return f"newest records deleted: the journal ends at {head[0]}, the sealed head is {low}"
    if head[0] > high:
        return f"records inserted past the sealed head ({high}): the journal ends at {head[0]}"
    return f"chain rewritten: the hash at {head[0]} is not the sealed one"


class HeadFile:
    """The sealed heads of one store's chains (``<store>.head``)."""

    def __init__(self, path: Path, key: bytes, sync: bool = False) -> None:
        self.path = path
        self._key = key
        self._sync = sync
        self._fd: int | None = None
        self.counter = 0
        self.alarm = ""

    def _mac(self, body: bytes) -> bytes:
        return keyed(self._key, b"shopguard-head\0" + body)

    def read(self) -> Seal | None:
        """The newest valid seal; None when the file is missing. Raises ValueError when
        it exists but no slot carries a valid MAC (forged, or not made with this key)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        best: Seal | None = None
        for start in (0, _SLOT):
            slot = data[start : start + _SLOT]
            if len(slot) < 8 or slot[:4] != _MAGIC:
                continue
            (size,) = struct.unpack_from("<I", slot, 4)
            body, mac = slot[8 : 8 + size], slot[8 + size : 8 + size + 32]
            if len(mac) != 32 or not hmac.compare_digest(mac, self._mac(body)):
                continue
            try:
                seal = _decoder.decode(body)
            except msgspec.DecodeError:
                continue
            if best is None or seal.counter > best.counter:
                best = seal
        if best is None:
            raise ValueError("no slot of the head file carries a valid MAC")
        return best

    def open(self, heads: Heads) -> Heads:
        """Start sealing for a store whose database now ends at ``heads``; returns them as
        the confirmed heads. A mismatch with the file becomes the sticky alarm."""
        seal = self._check(heads)
        settled = seal is not None and seal.confirmed == seal.pending == heads
        if self.alarm or not settled:  # else nothing to write: readers beside a server
            self.write(heads, heads)
        return heads

    def advance(self, confirmed: Heads, pending: Heads) -> None:
        """``open`` and ``write`` at once, for a store more than one process writes (read
        inside its write lock): the file's counter and alarm are read back first."""
        self._check(confirmed)
        self.write(confirmed, pending)

    def _check(self, heads: Heads) -> Seal | None:
        fresh = all(h == (0, GENESIS) for h in heads.values())
        try:
            seal = self.read()
        except ValueError as exc:
            seal, self.alarm = None, f"head file unreadable when opened: {exc}"
        if seal is not None:
            self.counter, self.alarm = max(self.counter, seal.counter), seal.alarm
            if not self.alarm:
                found = [(n, describe(n, h, seal)) for n, h in heads.items()]
                self.alarm = "; ".join(f"{n}: {p}" for n, p in found if p)
                if self.alarm:
                    self.alarm = f"opened on a journal not ending at its seal ({self.alarm})"
        elif not fresh and not self.alarm:
            self.alarm = "head file missing when the journal was opened with records in it"
        return seal

    def confirm(self, committed: Heads) -> None:
        """After the commit: seal ``committed`` alone, so deleting the commit just made
        is no longer excused as one that failed. Not synced: lost, the seal before it
        still holds the journal (it ends at that seal's pending heads)."""
        with contextlib.suppress(OSError):  # the pre-commit seal still matches the database
            self.write(committed, committed, sync=False)

    def write(self, confirmed: Heads, pending: Heads, sync: bool = True) -> None:
        """Seal (confirmed, pending): call before the commit that makes ``pending`` true."""
        self.counter += 1
        body = _encoder.encode(Seal(self.counter, confirmed, pending, self.alarm))
        slot = _MAGIC + struct.pack("<I", len(body)) + body + self._mac(body)
        if len(slot) > _SLOT:
            raise ValueError("too many chains for one head slot")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(self._fd, slot, (self.counter % 2) * _SLOT)
        if self._sync and sync:
            os.fdatasync(self._fd)

    def adopt(self, heads: Heads) -> None:
        """Clear the alarm and seal ``heads`` as they are (an operator vouches for them)."""
        try:
            seal = self.read()
        except ValueError:
            seal = None
        self.counter = seal.counter if seal is not None else 0
        self.alarm = ""
        self.write(heads, heads)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def head_file(store: Path, keys: Path | None = None, sync: bool = False) -> HeadFile | None:
    """The head file of a store file (None for an in-memory one); the key is the one in
    ``keys`` (the data directory; default: the store's folder)."""
    if str(store) == ":memory:":
        return None
    key = audit_key(store.parent if keys is None else keys)
    return HeadFile(store.with_name(store.name + ".head"), key, sync)


def verify_seal(store: Path, heads: Heads, keys: Path | None = None) -> dict[str, str]:
    """Per chain (and ``heads`` for the file itself), what is wrong; empty when all's well."""
    if str(store) == ":memory:":
        return {}
    if not ((store.parent if keys is None else keys) / KEY_FILE).exists():
        return {"heads": f"audit key missing ({KEY_FILE}): the seals cannot be checked"}
    found = head_file(store, keys)
    if found is None:
        return {}
    try:
        seal = found.read()
    except ValueError as exc:
        return {"heads": f"head file forged or corrupt: {exc}"}
    if seal is None:
        if all(head == (0, GENESIS) for head in heads.values()):
            return {}  # nothing written yet
        return {"heads": f"head file missing: {found.path.name}"}
    problems = {name: describe(name, head, seal) for name, head in heads.items()}
    problems = {n: p for n, p in problems.items() if p}
    if seal.alarm:
        problems["heads"] = seal.alarm
    return problems


@functools.lru_cache(maxsize=8)
def _pads(key: bytes) -> tuple[Any, Any]:
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    return inner, hashlib.sha256(bytes(b ^ 0x5C for b in block))


def keyed(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of ``message``, from the key's padded hash states computed
    once (as desensitize/keys.py does): two hash copies per MAC."""
    inner, outer = _pads(key)
    mac = inner.copy()
    mac.update(message)
    out = outer.copy()
    out.update(mac.digest())
    result: bytes = out.digest()
    return result


_LENGTH = struct.Struct("<I")


def digest(*parts: bytes) -> bytes:
    """SHA-256 over length-prefixed parts (no two part lists share an encoding)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(_LENGTH.pack(len(part)))
        h.update(part)
    return h.digest()
