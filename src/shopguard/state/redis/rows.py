"""A state row as a worker holds it between its read and its write: the fields as read
from Redis with their version, the decoded states the batch folds into, and the events
folded since (facts and fold functions), so they can be folded again into a newer row.

States are the snapshot encoding (state/snapshot.py: tagged msgpack arrays of plain
fields), one hash field per slot, so a row written by one build reads in any other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import msgspec

from shopguard.state.snapshot import State, decode_state, encode_state

Fold = Callable[[Any, dict[str, Any], float], Any]
Event = tuple[dict[str, Any], list[tuple[int, Fold]]]  # facts, (slot, fold) in this row
ABSENT = b"0"
VERSION = b"v"

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(State)
_random = random.SystemRandom()


def new_version() -> bytes:
    return str(_random.getrandbits(52) | 1).encode()  # never "0" (absent)


class Row:
    __slots__ = ("dirty", "events", "group", "kept", "key", "raw", "sent", "states", "version")

    def __init__(self, key: str, group: int, width: int, flat: list[bytes]) -> None:
        self.key, self.group = key, group
        self.states: list[Any] = [None] * width
        self.events: list[Event] = []  # folded since read, oldest first
        self.kept = 0  # of them, how many a flush already owes (the journal has them)
        self.dirty: set[int] = set()  # slots to write
        self.sent: bytes | None = None  # the version a write in flight proposed
        self.reset(flat)

    def reset(self, flat: list[bytes]) -> None:
        """Take the row as Redis holds it now (HGETALL's flat list), before any fold."""
        self.version = ABSENT
        self.raw: dict[int, bytes] = {}
        width = len(self.states)
        self.states = [None] * width
        for i in range(0, len(flat), 2):
            name, value = flat[i], flat[i + 1]
            if name == VERSION:
                self.version = value
            elif (slot := int(name)) < width:  # a field past the layout is not read
                self.raw[slot] = value
                self.states[slot] = decode_state(_decoder.decode(value))
        self.dirty = set()

    @property
    def exists(self) -> bool:
        return bool(self.raw) or bool(self.dirty)

    def fold(self, facts: dict[str, Any], entries: list[tuple[int, Fold]]) -> None:
        t = facts["time"]
        states = self.states
        for slot, fold in entries:
            state = fold(states[slot], facts, t)
            if state is not None:
                states[slot] = state
                self.dirty.add(slot)

    def refold(self, flat: list[bytes], upto: int | None = None) -> None:
        """Fold the events kept (the first ``upto``) again into ``flat``, a newer row."""
        del self.events[len(self.events) if upto is None else upto :]
        self.reset(flat)
        for facts, entries in self.events:
            self.fold(facts, entries)

    def flat(self) -> list[bytes]:
        """The row's fields as last read (for folding again after a drop)."""
        out = [VERSION, self.version]
        for slot, value in self.raw.items():
            out += [str(slot).encode(), value]
        return out

    def write_args(self, ttl_ms: int, force: bool = False) -> list[bytes | str | int]:
        """This row's part of the CAS script's ARGV; proposes (and remembers) a version."""
        if self.sent is None:
            self.sent = new_version()
        args: list[bytes | str | int] = [b"*" if force else self.version, self.sent, ttl_ms]
        args.append(len(self.dirty))
        for slot in sorted(self.dirty):
            args += [slot, _encoder.encode(encode_state(self.states[slot]))]
        return args


def version_of(flat: list[bytes]) -> bytes:
    for i in range(0, len(flat), 2):
        if flat[i] == VERSION:
            return flat[i + 1]
    return ABSENT
