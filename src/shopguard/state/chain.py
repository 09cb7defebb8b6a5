"""Tamper evidence for the journal: every record carries the hash of its content and a
chain hash over the one before it, and each chain's head is sealed outside the database
(state/audit.py).

A decision's ``content`` is SHA-256 over its *meta* (seq, tenant, event id, time, type,
outcome, merchant and money columns) and its ``body`` digest (facts and decision), so a
record whose body was redacted on an erasure request or thinned by retention still proves
its meta (what merchant health counts); the redaction chain (state/redactions.py) must
cover every redacted record, or it counts as edited. ``chain`` is SHA-256(previous chain
|| content), from 32 zero bytes or from the compaction anchor. List operations, labels,
redactions and compaction anchors are chained the same way. ``verify`` (state/verify.py)
recomputes them all and names what it finds: an edit, a gap, an unchained record, a
negative seq, a broken link, a forged anchor, a head that does not match its seal.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterable
from typing import Any

import msgspec

from shopguard.state.audit import GENESIS, Heads, digest

__all__ = ["GENESIS", "ChainReport", "chain_heads", "link", "walk"]


def body_digest(facts: bytes, decision: bytes) -> bytes:
    return digest(facts, decision)


def decision_content(row: tuple[Any, ...], body: bytes) -> bytes:
    """Content hash of (seq, tenant, event_id, time, type, outcome, merchant, gross,
    stake) and the body digest."""
    seq, tenant, event_id, when, type_, outcome, merchant, gross, stake = row
    numbers = struct.pack("<qdqdd", seq, when, outcome, gross, stake)
    named = b"\1" + str(merchant).encode() if merchant is not None else b"\0"
    parts = (str(tenant).encode(), str(event_id).encode(), str(type_).encode(), named)
    return digest(numbers, *parts, body)


def op_content(seq: int | None, op: bytes) -> bytes:
    return digest(struct.pack("<q", -1 if seq is None else seq), op)


def label_content(row: tuple[Any, ...]) -> bytes:
    """(tenant, event_id, kind, known_at, loss, merchant, label): every column the
    merchant-health report and erasure read."""
    tenant, event_id, kind, known_at, loss, merchant, label = row
    optional = [b"\0" if v is None else b"\1" + str(v).encode() for v in (event_id, merchant)]
    return digest(str(tenant).encode(), str(kind).encode(), struct.pack("<dd", known_at, loss),
                  *optional, bytes(label))  # fmt: skip


def anchor_content(seq: int, head: bytes) -> bytes:
    return digest(b"anchor", struct.pack("<q", seq), head)


def link(previous: bytes, content: bytes) -> bytes:
    return hashlib.sha256(previous + content).digest()


class ChainReport(msgspec.Struct):
    table: str
    records: int
    head: str  # the newest chain hash, hex
    problem: str = ""  # empty when the chain verifies
    at: int | None = None  # seq (decisions) or id of the first bad record

    @property
    def ok(self) -> bool:
        return not self.problem


Row = tuple[Any, Any, Any, str]  # (seq or id, content, chain, "" or what was edited)


End = tuple[int, bytes]  # a chain's position and its hash there


def walk(table: str, rows: Iterable[Row], start: End = (0, GENESIS)) -> ChainReport:
    """Follow a chain of (position, content, chain hash, edited) records from ``start``:
    positions run 1, 2, 3... after it. The first bad record is the problem. A generator
    feeding it resumes only after its record passed, so it may collect as it goes."""
    return walk_to(table, rows, start)[0]


def walk_to(
    table: str, rows: Iterable[Row], start: End = (0, GENESIS), runs: dict[int, End] | None = None
) -> tuple[ChainReport, End]:
    """``walk``, and where it ended (the last good record). ``runs``: stretches of
    positions no longer held (partitions retention dropped), first position -> (last
    position, chain hash at its end), crossed as if their records had been walked."""
    position, previous = start
    count = 0
    runs = runs or {}
    for rid, content, chain, edited in rows:
        while position + 1 in runs:
            position, previous = runs[position + 1]
        if not isinstance(rid, int) or rid <= 0:
            return ChainReport(table, count, previous.hex(), "negative seq", rid), (
                position,
                previous,
            )
        problem = ""
        if rid <= position:
            problem = "record inserted before the chain's start (anchor)"
        elif rid != position + 1:
            problem, rid = "records deleted", position + 1
        elif content is None or chain is None:
            problem = "unchained record"
        elif edited:
            problem = edited
        elif link(previous, bytes(content)) != bytes(chain):
            problem = "chain broken"
        if problem:
            return ChainReport(table, count, previous.hex(), problem, rid), (position, previous)
        position, previous, count = rid, bytes(chain), count + 1
    while position + 1 in runs:
        position, previous = runs[position + 1]
    return ChainReport(table, count, previous.hex()), (position, previous)


_NEWEST = {
    "list_ops": "SELECT id, chain FROM list_ops ORDER BY id DESC LIMIT 1",
    "labels": "SELECT id, chain FROM labels ORDER BY id DESC LIMIT 1",
    "redactions": "SELECT id, chain FROM redactions ORDER BY id DESC LIMIT 1",
    "anchors": "SELECT id, chain FROM anchor_log ORDER BY id DESC LIMIT 1",
}


def chain_heads(db: sqlite3.Connection) -> Heads:
    """Where each chain of the journal ends now: (newest seq or id, its chain hash)."""

    def head(row: Any) -> tuple[int, bytes] | None:
        return None if row is None else (int(row[0]), bytes(row[1] or b""))

    newest = "SELECT seq, chain FROM decisions ORDER BY seq DESC LIMIT 1"
    anchor = "SELECT seq, head FROM anchor_log ORDER BY id DESC LIMIT 1"
    decisions = head(db.execute(newest).fetchone()) or head(db.execute(anchor).fetchone())
    heads = {"decisions": decisions or (0, GENESIS)}
    for name, query in _NEWEST.items():
        heads[name] = head(db.execute(query).fetchone()) or (0, GENESIS)
    return heads
