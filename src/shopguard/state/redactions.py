"""The record of what was redacted, chained like the journal itself.

A redacted record skips the content check in ``verify`` (its content is gone on purpose),
so without this log anyone able to write the database could hide an edit by marking a
record redacted. Each erasure writes the seqs, list-op ids and label ids it blanked (never
the pseudonym); each thinning pass writes its bounds (records up to a seq, older than a
time, allowed). ``verify`` accepts a redacted record only if an entry of this chain covers it.
"""

from __future__ import annotations

import sqlite3
import struct
import time
from array import array
from collections.abc import Iterator

import msgspec

from shopguard.state.audit import digest
from shopguard.state.chain import GENESIS, ChainReport, Row, link, walk

SCHEMA = """
CREATE TABLE IF NOT EXISTS redactions(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
  at REAL NOT NULL, upto_seq INTEGER, before_time REAL, seqs BLOB NOT NULL,
  ops BLOB NOT NULL, labels BLOB NOT NULL DEFAULT x'', content BLOB NOT NULL,
  chain BLOB NOT NULL);
"""


def _content(
    kind: str, at: float, upto: int, before: float, seqs: bytes, ops: bytes, labels: bytes
) -> bytes:
    return digest(kind.encode(), struct.pack("<dqd", at, upto, before), seqs, ops, labels)


def record(
    db: sqlite3.Connection,
    kind: str,
    seqs: list[int] = [],  # noqa: B006  (never mutated)
    ops: list[int] = [],  # noqa: B006
    labels: list[int] = [],  # noqa: B006
    upto: int = -1,
    before: float = 0.0,
) -> None:
    """Append one redaction (inside the caller's transaction)."""
    row = db.execute("SELECT chain FROM redactions ORDER BY id DESC LIMIT 1").fetchone()
    previous = GENESIS if row is None else bytes(row[0])
    packed = tuple(array("q", ids).tobytes() for ids in (seqs, ops, labels))
    at = time.time()
    content = _content(kind, at, upto, before, *packed)
    db.execute(
        "INSERT INTO redactions(kind, at, upto_seq, before_time, seqs, ops, labels, content,"
        " chain) VALUES (?,?,?,?,?,?,?,?,?)",
        (kind, at, upto, before, *packed, content, link(previous, content)),
    )


class Allowed(msgspec.Struct):
    """What the redaction chain vouches for."""

    erased: set[int]
    ops: set[int]
    labels: set[int]
    thinned: list[tuple[int, float]]  # (up to seq, before time) of each thinning pass

    def decision(self, seq: int, when: float, outcome: int, redacted: int) -> bool:
        if redacted == 1:
            return seq in self.erased
        return outcome == 0 and any(seq <= s and when < t for s, t in self.thinned)


def verify(db: sqlite3.Connection) -> tuple[ChainReport, Allowed]:
    """The chain's report, and what the records that verified vouch for."""
    allowed = Allowed(set(), set(), set(), [])
    rows = db.execute(
        "SELECT id, kind, at, upto_seq, before_time, seqs, ops, labels, content, chain"
        " FROM redactions ORDER BY id"
    )

    def checked() -> Iterator[Row]:
        for rid, kind, at, upto, before, seqs, ops, labels, content, chain in rows:
            seqs, ops, labels = bytes(seqs), bytes(ops), bytes(labels)
            ok = _content(kind, at, upto, before, seqs, ops, labels) == bytes(content)
            yield rid, content, chain, "" if ok else "record edited"
            # resumed only once this record verified
            if kind == "thin":
                allowed.thinned.append((upto, before))
            else:
                allowed.erased.update(array("q", seqs))
                allowed.ops.update(array("q", ops))
                allowed.labels.update(array("q", labels))

    return walk("redactions", checked()), allowed
