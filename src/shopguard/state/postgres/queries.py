"""What the PostgreSQL journal answers in SQL: whether a row holds, search, labels and
merchant health (the same answers as the SQLite journal's, tests/state/test_log_contract)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from shopguard.decision import decision_decoder
from shopguard.labels import LOSS_KINDS, Label, MerchantHealth
from shopguard.labels.label import label_decoder, label_encoder
from shopguard.state.chain import GENESIS, body_digest, decision_content, label_content, link
from shopguard.state.postgres.connect import commit_mac, unpack_runs
from shopguard.state.search import DecisionQuery, Found

if TYPE_CHECKING:
    from shopguard.state.postgres.reads import JournalReads

THINNED, REDACTED = 2, 1  # values of decisions.redacted, as in the SQLite journal
_OUTCOMES = {"allow": 0, "review": 1, "challenge": 2, "deny": 3}


def insert_sql(s: str, columns: tuple[str, ...], types: tuple[str, ...]) -> str:
    """One INSERT of a whole batch: an array per column, unnested server side (terms
    travel joined by \\x1f and are split there)."""
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    picked = ", ".join(
        "string_to_array(u.terms, chr(31))" if c == "terms" else f"u.{c}" for c in columns
    )
    return (
        f"INSERT INTO {s}.decisions(writer, {', '.join(columns)}) SELECT %s::int, {picked}"
        f" FROM unnest({arrays}) AS u({', '.join(columns)})"
    )


def writer_names(log: JournalReads) -> dict[int, str]:
    rows = log.db().execute(f"SELECT id, name FROM {log.s}.writers ORDER BY id")
    return {int(i): str(n) for i, n in rows}


def anchored_runs(log: JournalReads, writer: int) -> dict[int, tuple[int, bytes]]:
    """The seq runs compaction dropped from a writer's chain: first seq -> (last, chain)."""
    rows = log.db().execute(
        f"SELECT runs FROM {log.s}.anchors WHERE writer = %s ORDER BY id", (writer,)
    )
    return {a: (b, head) for (raw,) in rows for a, b, head in unpack_runs(bytes(raw))}


def row_holds(log: JournalReads, row: tuple[Any, ...]) -> bool:
    """Whether one decision row holds: its content, its link to the record before it and
    the links on to the end of its commit, whose chain hash carries the audit key's MAC."""
    seq, facts, raw, body, content, chain, redacted, writer = row[0], *row[9:15], row[16]
    if redacted == 0:
        body = body_digest(bytes(facts), bytes(raw))
    if body is None or content is None or chain is None or redacted == THINNED:
        return False
    if decision_content(row[:9], bytes(body)) != bytes(content):
        return False
    db, s = log.db(), log.s
    before = db.execute(
        f"SELECT chain FROM {s}.decisions WHERE writer = %s AND seq = %s", (writer, seq - 1)
    ).fetchone()
    previous = bytes(before[0] or b"") if before else None
    if before is None:
        ends = {last: head for last, head in anchored_runs(log, writer).values()}
        previous = ends.get(seq - 1, GENESIS if seq == 1 else None)
    if previous is None or link(previous, bytes(content)) != bytes(chain):
        return False
    position, head, seal = seq, bytes(chain), row[15]
    while seal is None:  # on to the end of its commit: the record carrying the seal
        later = db.execute(
            f"SELECT seq, content, chain, seal FROM {s}.decisions WHERE writer = %s"
            " AND seq > %s ORDER BY seq LIMIT 512",
            (writer, position),
        ).fetchall()
        if not later:
            return False
        for found in later:
            if found[0] != position + 1 or found[1] is None:
                return False
            position, head, seal = found[0], link(head, bytes(found[1])), found[3]
            if head != bytes(found[2] or b""):
                return False
            if seal is not None:
                break
    name = writer_names(log).get(int(writer), "") if writer != log.writer_id else log.writer
    return hmac.compare_digest(commit_mac(log._key, name, position, head), bytes(seal))


def search(log: JournalReads, q: DecisionQuery) -> Found:
    """Newest first by commit (``gid``, journal-wide); ``before`` pages on a gid."""
    where = ["tenant = %s", "time >= %s", "time < %s", "redacted != 2"]
    params: list[Any] = [q.tenant, q.since, q.until]
    if q.outcome is not None:
        where.append("outcome = %s")
        params.append(_OUTCOMES[q.outcome])
    wanted = [
        t for t in (q.entity, q.rule and f"rule:{q.rule}", q.shadow and f"shadow:{q.shadow}") if t
    ]
    if wanted:
        where.append("terms @> %s::text[]")
        params.append(wanted)
    if q.before is not None:
        where.append("gid < %s")
        params.append(q.before)
    rows = (
        log.db()
        .execute(
            f"SELECT gid, decision FROM {log.s}.decisions WHERE {' AND '.join(where)}"
            " ORDER BY gid DESC LIMIT %s",
            (*params, q.limit + 1),
        )
        .fetchall()
    )
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    decisions = [decision_decoder.decode(bytes(raw)) for _, raw in rows]
    return Found(decisions, int(rows[-1][0]) if more else None)


def add_label(log: JournalReads, label: Label) -> None:
    """Append a label to this writer's label chain, its head sealed, in one transaction."""
    row = (label.tenant, label.event_id, label.kind, label.known_at, label.loss,
           label.merchant, label_encoder.encode(label))  # fmt: skip
    db, s, w = log.db(), log.s, log.writer_id
    content = label_content(row)
    with db.transaction():
        last = db.execute(
            f"SELECT id, chain FROM {s}.labels WHERE writer = %s ORDER BY id DESC LIMIT 1", (w,)
        ).fetchone()
        number, previous = (int(last[0]), bytes(last[1] or b"")) if last else (0, GENESIS)
        chain = link(previous, content)
        db.execute(
            f"INSERT INTO {s}.labels(writer, id, tenant, event_id, kind, known_at, loss,"
            " merchant, label, content, chain) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (w, number + 1, *row, content, chain),
        )
        log.seal_head(db, w, log.writer, "labels", number + 1, chain)


def labels(log: JournalReads, tenant: str) -> list[Label]:
    rows = log.db().execute(
        f"SELECT label FROM {log.s}.labels WHERE tenant = %s AND redacted = 0 ORDER BY gid",
        (tenant,),
    )
    return [label_decoder.decode(bytes(raw)) for (raw,) in rows]


_HEALTH = """
SELECT merchant, SUM((outcome = 0)::int), SUM((outcome = 1)::int), SUM((outcome = 2)::int),
  SUM((outcome = 3)::int), SUM(gross), SUM(CASE WHEN outcome >= 2 THEN stake ELSE 0 END)
FROM {s}.decisions WHERE tenant = %s AND merchant IS NOT NULL AND time >= %s AND time < %s
GROUP BY merchant"""
# The latest label per event (known by then), the event's merchant and time where it
# was first decided here (by any writer), else the label's own.
_LOSSES = """
WITH known AS (
  SELECT *, ROW_NUMBER() OVER (
    PARTITION BY COALESCE(event_id, 'label:' || gid) ORDER BY known_at DESC, gid DESC) AS n
  FROM {s}.labels WHERE tenant = %s AND known_at <= %s AND redacted = 0),
latest AS (SELECT * FROM known WHERE n = 1 AND kind = ANY(%s)),
placed AS (
  SELECT COALESCE(l.merchant, d.merchant) AS merchant, COALESCE(d.time, l.known_at) AS time,
    l.loss AS loss
  FROM latest l LEFT JOIN LATERAL (
    SELECT x.merchant, x.time FROM {s}.decisions x
    WHERE x.tenant = l.tenant AND x.event_id = l.event_id ORDER BY x.gid LIMIT 1
  ) d ON d.merchant IS NOT NULL)
SELECT merchant, SUM(loss), COUNT(*) FROM placed
WHERE merchant IS NOT NULL AND time >= %s AND time < %s GROUP BY merchant"""


def merchant_health(
    log: JournalReads, tenant: str, since: float, until: float, known_by: float | None
) -> list[MerchantHealth]:
    db, s = log.db(), log.s
    tallies: dict[str, list[Any]] = {}
    for row in db.execute(_HEALTH.format(s=s), (tenant, since, until)):
        tallies[row[0]] = [*row[1:], 0.0, 0]
    known = 1e18 if known_by is None else known_by
    params = (tenant, known, sorted(LOSS_KINDS), since, until)
    for merchant, loss, cases in db.execute(_LOSSES.format(s=s), params):
        tally = tallies.setdefault(merchant, [0, 0, 0, 0, 0.0, 0.0, 0.0, 0])
        tally[6], tally[7] = loss, cases
    out = []
    for merchant, (a, r, c, d, gross, blocked, loss, cases) in sorted(tallies.items()):
        a, r, c, d, cases = int(a), int(r), int(c), int(d), int(cases)
        gross, blocked, loss = float(gross), float(blocked), float(loss)
        rate = round(loss / gross, 6) if gross else None
        health = (merchant, a + r + c + d, a, r, c, d, round(gross, 2), round(blocked, 2))
        out.append(MerchantHealth(*health, round(loss, 2), cases, rate))
    return out
