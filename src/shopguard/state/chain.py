"""Tamper evidence for the journal: every decision record and every list change carries
the hash of its content and a chain hash over the one before it.

``content`` is SHA-256 over the record's fields (length-prefixed, so no two records can
share an encoding); ``chain`` is SHA-256(previous chain || content), from 32 zero bytes.
``verify`` recomputes both, in order, and names the first record that was edited (its
content no longer matches), deleted (a gap, or a chain that no longer links), or
inserted (a chain that does not link). A record redacted on an erasure request keeps its
content hash, so the chain still verifies while the personal data is gone; it must be
covered by an entry of the redaction chain (state/redactions.py), or it counts as
edited. Deleting the newest records leaves a shorter valid chain: keep the head hash
``verify`` prints somewhere else (a ticket, a partner) to catch that too. Compaction
deletes the oldest records and keeps the last one's chain hash as an anchor, where
verification starts.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from shopguard.state.redactions import Allowed

GENESIS = bytes(32)


def _field(h: hashlib._Hash, value: bytes) -> None:
    h.update(struct.pack("<I", len(value)))
    h.update(value)


def decision_content(row: tuple[Any, ...]) -> bytes:
    """Content hash of (seq, tenant, event_id, time, type, outcome, facts, decision)."""
    seq, tenant, event_id, when, type_, outcome, facts, decision = row[:8]
    h = hashlib.sha256(struct.pack("<qdq", seq, when, outcome))
    for part in (str(tenant).encode(), str(event_id).encode(), str(type_).encode()):
        _field(h, part)
    _field(h, bytes(facts))
    _field(h, bytes(decision))
    return h.digest()


def op_content(seq: int | None, op: bytes) -> bytes:
    h = hashlib.sha256(struct.pack("<q", -1 if seq is None else seq))
    _field(h, op)
    return h.digest()


def link(previous: bytes, content: bytes) -> bytes:
    return hashlib.sha256(previous + content).digest()


class ChainReport(msgspec.Struct):
    table: str
    records: int
    head: str  # the newest chain hash, hex: record it elsewhere
    problem: str = ""  # empty when the chain verifies
    at: int | None = None  # seq (decisions) or id (list_ops) of the first bad record

    @property
    def ok(self) -> bool:
        return not self.problem


def verify(db: sqlite3.Connection) -> list[ChainReport]:
    from shopguard.state import redactions

    report, allowed = redactions.verify(db)
    return [_decisions(db, allowed), _list_ops(db, allowed), report]


def _decisions(db: sqlite3.Connection, allowed: Allowed) -> ChainReport:
    anchor = db.execute("SELECT seq, chain FROM anchors WHERE name = 'decisions'").fetchone()
    previous, expected_seq, count = GENESIS, None, 0
    if anchor is not None:
        expected_seq, previous = anchor[0] + 1, bytes(anchor[1])
    rows = db.execute(
        "SELECT seq, tenant, event_id, time, type, outcome, facts, decision, content, chain,"
        " redacted FROM decisions WHERE chain IS NOT NULL AND seq >= ? ORDER BY seq",
        (expected_seq or 0,),
    )
    for row in rows:
        seq, content, chain, redacted = row[0], bytes(row[8]), bytes(row[9]), row[10]
        if expected_seq is not None and seq != expected_seq:
            return ChainReport("decisions", count, previous.hex(), "records deleted", expected_seq)
        if redacted:
            if not allowed.decision(seq, row[3], row[5], redacted):
                return ChainReport("decisions", count, previous.hex(), "record edited", seq)
        elif decision_content(row) != content:
            return ChainReport("decisions", count, previous.hex(), "record edited", seq)
        if link(previous, content) != chain:
            return ChainReport("decisions", count, previous.hex(), "chain broken", seq)
        previous, expected_seq, count = chain, seq + 1, count + 1
    return ChainReport("decisions", count, previous.hex())


def _list_ops(db: sqlite3.Connection, allowed: Allowed) -> ChainReport:
    rows = db.execute(
        "SELECT id, seq, op, content, chain, redacted FROM list_ops WHERE chain IS NOT NULL"
        " ORDER BY id"
    )

    def checked() -> Iterator[tuple[int, bytes, bytes, bool]]:
        for op_id, seq, op, content, chain, redacted in rows:
            edited = op_id not in allowed.ops if redacted else op_content(seq, bytes(op)) != content
            yield op_id, bytes(content), bytes(chain), edited

    return walk("list_ops", checked())


def walk(table: str, rows: Iterable[tuple[int, bytes, bytes, bool]]) -> ChainReport:
    """Follow a chain of (id, content, chain hash, edited?) records from the genesis: the
    first edited record or broken link is the problem. A generator feeding it resumes
    only after its record passed, so it may collect what passed as it goes."""
    previous, count = GENESIS, 0
    for rid, content, chain, edited in rows:
        if edited:
            return ChainReport(table, count, previous.hex(), "record edited", rid)
        if link(previous, content) != chain:
            return ChainReport(table, count, previous.hex(), "chain broken", rid)
        previous, count = chain, count + 1
    return ChainReport(table, count, previous.hex())
