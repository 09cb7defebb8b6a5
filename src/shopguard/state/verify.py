"""``verify`` for the SQLite journal: every chain, the search index, the snapshot and the
sealed heads, each finding named.

Chains (state/chain.py) are walked from their start (the genesis, or for decisions the
newest compaction anchor, itself on a chain): a record that does not link, an edited
one, a gap (deleted), an unchained record, a negative seq or one below the anchor is
reported, never skipped. Each chain must then end at the head sealed in the head file
(state/audit.py), which catches a consistent rewrite, a cut-off tail and an appended
record. The search index is recomputed from the journaled facts and decisions (summed
term hashes per bucket, then the first differing seq of the first bad bucket). The
snapshot must carry the audit key's MAC, decode, and not predate compacted records.
"""

from __future__ import annotations

import hmac
import sqlite3
import struct
from collections import defaultdict
from collections.abc import Iterator
from hashlib import blake2b
from pathlib import Path
from typing import Any

import msgspec

from shopguard.decision import decision_decoder
from shopguard.labels import event_money, ledger_merchant
from shopguard.state import redactions
from shopguard.state.audit import GENESIS, keyed, verify_seal
from shopguard.state.chain import (
    ChainReport,
    Row,
    anchor_content,
    body_digest,
    chain_heads,
    decision_content,
    label_content,
    link,
    op_content,
    walk,
)
from shopguard.state.housekeeping import BUCKET_BITS
from shopguard.state.redactions import Allowed
from shopguard.state.search import terms
from shopguard.state.snapshot import SnapshotError, decode_rows, unpack

_facts = msgspec.msgpack.Decoder(dict[str, Any])
_MASK = (1 << 128) - 1
ROW = (
    "SELECT seq, tenant, event_id, time, type, outcome, merchant, gross, stake, facts,"
    " decision, body, content, chain, redacted, seal FROM decisions"
)


def snapshot_mac(key: bytes, seq: int, blob: bytes) -> bytes:
    return keyed(key, b"snapshot\0" + struct.pack("<q", seq) + blob)


def verify(db: sqlite3.Connection, path: Path, key: bytes) -> list[ChainReport]:
    """Every check's report; without the key (b"") the keyed ones say it is missing."""
    red, allowed = redactions.verify(db)
    anchors, start = _anchors(db)
    keyless = [ChainReport(t, 0, "", "audit key missing") for t in ("snapshot", "commit_seals")]
    reports = [
        _decisions(db, allowed, start),
        _list_ops(db, allowed),
        _labels(db, allowed),
        red,
        anchors,
        _index(db),
        *([_snapshot(db, key, start[0], allowed), _commit_seals(db, key)] if key else keyless),
    ]
    sealed = verify_seal(path, chain_heads(db))
    for report in reports:
        problem = sealed.get(report.table)
        if problem and report.ok:
            report.problem = f"anchor forged ({problem})" if report.table == "anchors" else problem
    reports.append(ChainReport("heads", len(chain_heads(db)), "", sealed.get("heads", "")))
    return reports


def _money_edited(row: tuple[Any, ...]) -> bool:
    """Whether the merchant and money columns differ from what the facts say."""
    try:
        facts = _facts.decode(row[9])
    except msgspec.DecodeError:
        return False
    gross, stake = event_money(row[4], facts)
    return (ledger_merchant(row[4], facts), gross, stake) != (row[6], row[7], row[8])


def _decision_edited(row: tuple[Any, ...], allowed: Allowed) -> str:
    seq, when, outcome, body, content, redacted = row[0], row[3], row[5], row[11], row[12], row[14]
    if content is None:
        return ""  # the walk reports it unchained
    if redacted:
        if not allowed.decision(seq, when, outcome, redacted) or body is None:
            return "record edited (marked redacted, and no redaction covers it)"
        computed = bytes(body)
    else:
        computed = body_digest(bytes(row[9]), bytes(row[10]))
    if decision_content(row[:9], computed) == bytes(content):
        return ""
    meta_only = redacted != 2 and (redacted or body is None or bytes(body) == computed)
    return "money columns edited" if meta_only and _money_edited(row) else "record edited"


def _decisions(db: sqlite3.Connection, allowed: Allowed, start: tuple[int, bytes]) -> ChainReport:
    rows = db.execute(f"{ROW} ORDER BY seq")
    checked = ((r[0], r[12], r[13], _decision_edited(r, allowed)) for r in rows)
    return walk("decisions", checked, start)


def _list_ops(db: sqlite3.Connection, allowed: Allowed) -> ChainReport:
    rows = db.execute("SELECT id, seq, op, content, chain, redacted FROM list_ops ORDER BY id")

    def checked() -> Iterator[Row]:
        for op_id, seq, op, content, chain, redacted in rows:
            if content is None:
                edited = ""
            elif redacted:
                edited = "" if op_id in allowed.ops else "record edited (blanked, no redaction)"
            else:
                edited = "" if op_content(seq, bytes(op)) == bytes(content) else "record edited"
            yield op_id, content, chain, edited

    return walk("list_ops", checked())


def _labels(db: sqlite3.Connection, allowed: Allowed) -> ChainReport:
    rows = db.execute(
        "SELECT id, tenant, event_id, kind, known_at, loss, merchant, label, content, chain,"
        " redacted FROM labels ORDER BY id"
    )

    def checked() -> Iterator[Row]:
        for row in rows:
            label_id, content, chain, redacted = row[0], row[8], row[9], row[10]
            if content is None:
                edited = ""
            elif redacted:
                edited = "" if label_id in allowed.labels else "record edited (blanked)"
            else:
                same = label_content(row[1:8]) == bytes(content)
                edited = "" if same else "record edited"
            yield label_id, content, chain, edited

    return walk("labels", checked())


def _anchors(db: sqlite3.Connection) -> tuple[ChainReport, tuple[int, bytes]]:
    """The anchor chain's report, and where the decisions chain starts (its newest)."""
    rows = db.execute("SELECT id, seq, head, content, chain FROM anchor_log ORDER BY id")
    start = (0, GENESIS)

    def checked() -> Iterator[Row]:
        nonlocal start
        for anchor_id, seq, head, content, chain in rows:
            edited = "" if anchor_content(seq, bytes(head)) == bytes(content) else "edited"
            if not edited and seq < start[0]:
                edited = "it goes back"
            yield anchor_id, content, chain, edited
            start = (int(seq), bytes(head))

    report = walk("anchors", checked())
    if report.problem:
        report.problem = f"anchor forged ({report.problem})"
    return report, start


def _term_hash(tenant: str, bucket: int, term: str, seq: int) -> int:
    text = f"{tenant}\x1f{bucket}\x1f{term}\x1f{seq}".encode()
    return int.from_bytes(blake2b(text, digest_size=16).digest(), "little")


def _expected(
    db: sqlite3.Connection, where: str = "", args: tuple[int, ...] = ()
) -> Iterator[tuple[str, int, str, int]]:
    """The index entries the journaled facts and decisions call for."""
    rows = db.execute(
        f"SELECT seq, tenant, facts, decision FROM decisions WHERE redacted != 2 {where}", args
    )
    for seq, tenant, facts, raw in rows:
        try:
            if bytes(raw) == b"null":
                continue
            found = terms(_facts.decode(facts), decision_decoder.decode(raw))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # an edited record: the chain walk reports it
        yield from ((tenant, seq >> BUCKET_BITS, term, seq) for term in found)


def _index(db: sqlite3.Connection) -> ChainReport:
    expected: defaultdict[int, int] = defaultdict(int)
    actual: defaultdict[int, int] = defaultdict(int)
    for entry in _expected(db):
        expected[entry[3] >> BUCKET_BITS] += _term_hash(*entry)
    count = 0
    for entry in db.execute("SELECT tenant, bucket, term, seq FROM decision_terms"):
        actual[entry[3] >> BUCKET_BITS] += _term_hash(*entry)
        count += 1
    bad = [
        b
        for b in sorted(expected.keys() | actual.keys())
        if expected[b] & _MASK != actual[b] & _MASK
    ]
    if not bad:
        return ChainReport("search_index", count, "")
    low, high = bad[0] << BUCKET_BITS, ((bad[0] + 1) << BUCKET_BITS) - 1
    want = set(_expected(db, "AND seq BETWEEN ? AND ?", (low, high)))
    have = set(
        db.execute(
            "SELECT tenant, bucket, term, seq FROM decision_terms WHERE seq BETWEEN ? AND ?",
            (low, high),
        )
    )
    first = min(entry[3] for entry in want ^ have)
    return ChainReport("search_index", count, "", "search index altered", first)


def _snapshot(db: sqlite3.Connection, key: bytes, anchored: int, allowed: Allowed) -> ChainReport:
    row = db.execute("SELECT seq, state, mac FROM snapshot WHERE id = 1").fetchone()
    needed = max([anchored, *(upto for upto, _ in allowed.thinned)])
    if row is None:
        missing = "snapshot missing, and records were compacted or thinned" if needed else ""
        return ChainReport("snapshot", 0, "", missing)
    seq, blob = int(row[0]), bytes(row[1])
    problem = ""
    if not hmac.compare_digest(bytes(row[2] or b""), snapshot_mac(key, seq, blob)):
        problem = "snapshot forged or corrupted (its MAC does not match)"
    else:
        try:
            envelope = unpack(blob)
            decode_rows(envelope.state, None)
            if envelope.seq != seq:
                problem = "snapshot's seq differs from its row's"
        except SnapshotError as exc:
            problem = f"snapshot unusable: {exc}"
    newest = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()[0])
    if not problem and seq < needed:
        problem = "snapshot older than records compacted or thinned (an old one put back)"
    elif not problem and seq > max(newest, anchored):
        problem = "snapshot ahead of the journal"
    digest = blake2b(blob, digest_size=16).hexdigest()
    return ChainReport("snapshot", 1, digest, problem, seq if problem else None)


def _commit_seals(db: sqlite3.Connection, key: bytes) -> ChainReport:
    """Each commit's MAC'd chain hash (on its last record) must be the chain's there, and
    the newest record, the last of the newest commit, must carry one."""
    count, newest = 0, None
    for seq, seal, chain in db.execute("SELECT seq, seal, chain FROM decisions ORDER BY seq"):
        newest = (seq, seal)
        if seal is None:
            continue
        if chain is None or not hmac.compare_digest(
            bytes(seal), commit_mac(key, seq, bytes(chain))
        ):
            return ChainReport("commit_seals", count, "", "commit seal does not match", seq)
        count += 1
    if newest is not None and newest[1] is None:
        return ChainReport("commit_seals", count, "", "commit seal missing", newest[0])
    return ChainReport("commit_seals", count, "")


def commit_mac(key: bytes, seq: int, chain: bytes) -> bytes:
    """The MAC each commit stores for the chain hash of its last record."""
    return keyed(key, b"commit\0" + struct.pack("<q", seq) + chain)


def row_holds(db: sqlite3.Connection, row: tuple[Any, ...], key: bytes) -> bool:
    """Whether one decision row (``ROW``'s columns) holds: its content, its link to the
    record before it, and the links from it to the end of its commit, whose chain hash
    carries the audit key's MAC (its last record's ``seal``). So even a chain rehashed
    from the edit on is not served; at most one commit's rows are read."""
    seq, facts, raw, body, content, chain, redacted = row[0], *row[9:15]
    if redacted == 0:
        body = body_digest(bytes(facts), bytes(raw))
    if body is None or content is None or chain is None or redacted == 2:
        return False
    if decision_content(row[:9], bytes(body)) != bytes(content):
        return False
    before = db.execute("SELECT chain FROM decisions WHERE seq = ?", (seq - 1,)).fetchone()
    previous = bytes(before[0] or b"") if before else None
    if before is None:
        anchor = db.execute(
            "SELECT head FROM anchor_log WHERE seq = ? ORDER BY id DESC LIMIT 1", (seq - 1,)
        ).fetchone()
        previous = bytes(anchor[0]) if anchor else (GENESIS if seq == 1 else None)
    if previous is None or link(previous, bytes(content)) != bytes(chain):
        return False
    position, head, seal = seq, bytes(chain), row[15]
    later = db.execute(
        "SELECT seq, content, chain, seal FROM decisions WHERE seq > ? ORDER BY seq", (seq,)
    )
    while seal is None:  # on to the end of its commit: the record carrying the seal
        found = later.fetchone()
        if found is None or found[0] != position + 1 or found[1] is None:
            return False
        position, head, seal = found[0], link(head, bytes(found[1])), found[3]
        if head != bytes(found[2] or b""):
            return False
    later.close()
    return hmac.compare_digest(commit_mac(key, position, head), bytes(seal))
