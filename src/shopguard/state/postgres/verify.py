"""``verify`` for the PostgreSQL journal: every writer's chains, the journal-wide ones
(redactions, compaction anchors), the MAC'd heads, commit seals and snapshots.

It reads one consistent snapshot of the database (REPEATABLE READ), so workers may keep
writing meanwhile. Per writer, the decisions chain is walked in seq order; a run of seqs
that compaction dropped (a partition) is crossed only where an anchor on the anchor chain
lists it. Each chain must end at the head stored in ``heads`` with the audit key's MAC:
a consistent rewrite, a cut-off tail or an appended record shows there. Findings are
named per writer: ``decisions@<writer>``.
"""

from __future__ import annotations

import hmac
import itertools
from array import array
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from shopguard.decision import decision_decoder
from shopguard.state.audit import GENESIS, describe
from shopguard.state.chain import ChainReport, End, label_content, op_content, walk_to
from shopguard.state.postgres.connect import commit_mac, head_mac, snapshot_mac, unpack_runs
from shopguard.state.postgres.reads import ROW
from shopguard.state.postgres.upkeep import anchor_content, redaction_content, unpairs
from shopguard.state.search import terms
from shopguard.state.snapshot import SnapshotError, unpack
from shopguard.state.verify import _decision_edited

if TYPE_CHECKING:
    from shopguard.state.postgres.reads import JournalReads

_cursors = itertools.count()
_facts = msgspec.msgpack.Decoder(dict[str, Any])
Row = tuple[Any, Any, Any, str]


class Allowed(msgspec.Struct):
    """What the redaction chain vouches for, journal-wide."""

    erased: set[tuple[int, int]]  # (writer, seq)
    ops: set[int]  # list_ops gids
    labels: set[int]  # labels gids
    thinned: defaultdict[int, list[tuple[int, float]]]  # writer -> (up to seq, before time)


class _Writer:
    """``Allowed`` as the SQLite verifier asks it, for one writer's decisions."""

    def __init__(self, allowed: Allowed, writer: int) -> None:
        self.allowed, self.w = allowed, writer

    def decision(self, seq: int, when: float, outcome: int, redacted: int) -> bool:
        if redacted == 1:
            return (self.w, seq) in self.allowed.erased
        thinned = self.allowed.thinned.get(self.w, [])
        return outcome == 0 and any(seq <= s and when < t for s, t in thinned)


def walk(
    table: str, rows: Iterable[Row], runs: dict[int, End] | None = None
) -> tuple[ChainReport, End]:
    """state/chain.py's walk from the start, crossing the dropped ``runs`` (first seq ->
    (last, chain)), and where it ended."""
    return walk_to(table, rows, (0, GENESIS), runs)


def _rows(log: JournalReads, query: str, args: tuple[Any, ...]) -> Iterable[Any]:
    cursor = log.db().cursor(name=f"shopguard_verify_{next(_cursors)}")  # a page at a time
    cursor.itersize = 2000
    cursor.execute(query, args)
    yield from cursor
    cursor.close()


def _redactions(log: JournalReads) -> tuple[ChainReport, End, Allowed]:
    allowed = Allowed(set(), set(), set(), defaultdict(list))

    def checked() -> Iterable[Row]:
        for row in _rows(log, f"SELECT * FROM {log.s}.redactions ORDER BY id", ()):
            rid, kind, at, marks, before, seqs, ops, labels, content, chain = row
            parts = (bytes(marks), before, bytes(seqs), bytes(ops), bytes(labels))
            ok = redaction_content(kind, at, parts[0], *parts[1:]) == bytes(content)
            yield rid, content, chain, "" if ok else "record edited"
            if kind == "thin":  # resumed only once this record verified
                for w, upto in unpairs(parts[0]):
                    allowed.thinned[w].append((upto, before))
            else:
                allowed.erased.update(unpairs(parts[2]))
                allowed.ops.update(array("q", parts[3]))
                allowed.labels.update(array("q", parts[4]))

    report, end = walk("redactions", checked())
    return report, end, allowed


def _anchors(
    log: JournalReads, names: dict[int, str]
) -> tuple[ChainReport, End, dict[int, dict[int, End]]]:
    runs: dict[int, dict[int, End]] = defaultdict(dict)

    def checked() -> Iterable[Row]:
        for aid, w, packed, content, chain in _rows(
            log, f"SELECT * FROM {log.s}.anchors ORDER BY id", ()
        ):
            ok = anchor_content(names.get(w, "?"), bytes(packed)) == bytes(content)
            yield aid, content, chain, "" if ok else "edited"
            for first, last, head in unpack_runs(bytes(packed)):
                runs[w][first] = (last, head)

    report, end = walk("anchors", checked())
    if report.problem:
        report.problem = f"anchor forged ({report.problem})"
    return report, end, runs


def _decisions(
    log: JournalReads, w: int, name: str, allowed: Allowed, runs: dict[int, End]
) -> tuple[list[ChainReport], End]:
    key, seals, bad_seal, newest = log._key, 0, None, None
    per = _Writer(allowed, w)

    def checked() -> Iterable[Row]:
        nonlocal seals, bad_seal, newest
        query = f"SELECT {ROW}, terms FROM {log.s}.decisions WHERE writer = %s ORDER BY seq"
        for row in _rows(log, query, (w,)):
            edited = _decision_edited(row, per)  # type: ignore[arg-type]
            if not edited and row[14] == 0 and bytes(row[10]) != b"null":
                try:
                    wanted = terms(_facts.decode(row[9]), decision_decoder.decode(row[10]))
                    if sorted(wanted) != sorted(row[17]):
                        edited = "search terms altered"
                except (msgspec.DecodeError, msgspec.ValidationError):
                    edited = "record edited"
            seq, seal, chain = row[0], row[15], row[13]
            newest = (seq, seal)
            if seal is not None and bad_seal is None and key:
                if chain is None or not hmac.compare_digest(
                    bytes(seal), commit_mac(key, name, seq, bytes(chain))
                ):
                    bad_seal = seq
                seals += 1
            yield seq, row[12], chain, edited

    report, end = walk(f"decisions@{name}", checked(), runs)
    if not key:
        problem, at = "audit key missing", None
    elif bad_seal is not None:
        problem, at = "commit seal does not match", bad_seal
    elif newest is not None and newest[1] is None:
        problem, at = "commit seal missing", newest[0]
    else:
        problem, at = "", None
    return [report, ChainReport(f"commit_seals@{name}", seals, "", problem, at)], end


def _list_ops(log: JournalReads, w: int, name: str, allowed: Allowed) -> tuple[ChainReport, End]:
    def checked() -> Iterable[Row]:
        query = (
            "SELECT id, seq, op, content, chain, redacted, gid"
            f" FROM {log.s}.list_ops WHERE writer = %s ORDER BY id"
        )
        for op_id, seq, op, content, chain, redacted, gid in _rows(log, query, (w,)):
            if content is None:
                edited = ""
            elif redacted:
                edited = "" if gid in allowed.ops else "record edited (blanked, no redaction)"
            else:
                edited = "" if op_content(seq, bytes(op)) == bytes(content) else "record edited"
            yield op_id, content, chain, edited

    return walk(f"list_ops@{name}", checked())


def _labels(log: JournalReads, w: int, name: str, allowed: Allowed) -> tuple[ChainReport, End]:
    def checked() -> Iterable[Row]:
        query = (
            "SELECT id, tenant, event_id, kind, known_at, loss, merchant, label, content, chain,"
            f" redacted, gid FROM {log.s}.labels WHERE writer = %s ORDER BY id"
        )
        for row in _rows(log, query, (w,)):
            content, chain, redacted, gid = row[8], row[9], row[10], row[11]
            if content is None:
                edited = ""
            elif redacted:
                edited = "" if gid in allowed.labels else "record edited (blanked)"
            else:
                edited = "" if label_content(row[1:8]) == bytes(content) else "record edited"
            yield row[0], content, chain, edited

    return walk(f"labels@{name}", checked())


def _snapshot(log: JournalReads, w: int, name: str) -> ChainReport | None:
    row = (
        log.db()
        .execute(f"SELECT seq, state, mac FROM {log.s}.snapshots WHERE writer = %s", (w,))
        .fetchone()
    )
    if row is None:
        return None
    seq, blob, problem = int(row[0]), bytes(row[1]), ""
    if not hmac.compare_digest(bytes(row[2]), snapshot_mac(log._key, name, seq, blob)):
        problem = "snapshot forged or corrupted (its MAC does not match)"
    else:
        try:
            if unpack(blob).seq != seq:
                problem = "snapshot's seq differs from its row's"
        except SnapshotError as exc:
            problem = f"snapshot unusable: {exc}"
    return ChainReport(f"snapshot@{name}", 1, "", problem, seq if problem else None)


def verify(log: JournalReads) -> list[ChainReport]:
    """Every check's report; without the audit key the keyed ones say it is missing."""
    from shopguard.state.audit import Seal
    from shopguard.state.postgres.queries import writer_names

    db, key = log.db(), log._key
    with db.transaction():
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        names = writer_names(log)
        sealed = {
            (int(w), str(c)): (int(p), bytes(h), bytes(m))
            for w, c, p, h, m in db.execute(f"SELECT * FROM {log.s}.heads")
        }
        red, red_end, allowed = _redactions(log)
        anchors, anchors_end, runs = _anchors(log, names)
        ends: list[tuple[ChainReport, int, str, str, End]] = [
            (red, 0, "", "redactions", red_end),
            (anchors, 0, "", "anchors", anchors_end),
        ]
        reports = [red, anchors]
        for w, name in names.items():
            found, end = _decisions(log, w, name, allowed, runs.get(w, {}))
            reports += found
            ends.append((found[0], w, name, "decisions", end))
            for check in (_list_ops, _labels):
                report, end = check(log, w, name, allowed)
                reports.append(report)
                ends.append((report, w, name, report.table.split("@")[0], end))
            snap = _snapshot(log, w, name)
            reports += [snap] if snap is not None else []
    forged = 0
    for report, w, name, chain, end in ends:
        stored = sealed.get((w, chain))
        problem = ""
        if stored is None:
            problem = "" if end == (0, GENESIS) else "sealed head missing"
        elif key and not hmac.compare_digest(stored[2], head_mac(key, name, chain, *stored[:2])):
            problem, forged = "sealed head forged (its MAC does not match)", forged + 1
        else:
            seal = Seal(0, {chain: stored[:2]}, {chain: stored[:2]})
            problem = describe(chain, end, seal)
        if problem and report.ok:
            report.problem = problem
    heads = ChainReport("heads", len(sealed), "", "" if key else "audit key missing")
    return [*reports, heads]
