"""The console's queries (``ConsoleQueries``) over the PostgreSQL journal: every writer's
decisions, per tenant, each answered from an index (state/postgres/schema.py).

A decision's ``seq`` here is its journal-wide ``gid`` (each writer's own seq repeats
across writers): held events name gids, ``decisions`` takes them, and search pages on
them. Gids come from a sequence each worker's session caches a block of, so across
workers they are not commit order: the queue and the shadow hits put the newest event
time first (gid breaks ties); search (the journal's) pages newest gid first. Shadow
hits count over the newest ``SHADOW_SCAN`` decisions at most (the SQLite term index
reads only the shadow postings; here every row of the window is read). Reads go through the
journal's own connection once what it staged is committed (as the SQLite queries read
the journal's reader), so a page sees every decision its engine has made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopguard.console.queries import Held, HeldRow, Linked, held_of, linked_of
from shopguard.decision import Decision, decision_decoder
from shopguard.state.postgres.connect import Conn
from shopguard.state.search import DecisionQuery, Found

if TYPE_CHECKING:
    from shopguard.state.postgres.log import PostgresDecisionLog


SHADOW_SCAN = 50_000  # the most decisions the shadow hits are counted over


class PostgresConsoleQueries:
    """``held_bound``: the most open review events read per tenant."""

    def __init__(self, log: PostgresDecisionLog, held_bound: int) -> None:
        self._log, self.held_bound, self.s = log, held_bound, log.s

    def _db(self) -> Conn:
        self._log.commit()
        return self._log.db()

    def _rows(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._db().execute(query.format(s=self.s), params).fetchall()

    def newest_time(self, tenant: str) -> float | None:  # decisions_tenant_time
        rows = self._rows("SELECT MAX(time) FROM {s}.decisions WHERE tenant = %s", (tenant,))
        return None if rows[0][0] is None else float(rows[0][0])

    def per_minute(self, tenant: str, since: float) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        rows = self._rows(
            "SELECT floor(time / 60)::bigint, outcome, COUNT(*) FROM {s}.decisions"
            " WHERE tenant = %s AND time >= %s GROUP BY 1, 2",
            (tenant, since),
        )
        for minute, outcome, n in rows:
            out.setdefault(int(minute), [0, 0, 0, 0])[int(outcome)] = int(n)
        return out

    def top_terms(
        self, tenant: str, prefix: str, since: float, min_outcome: int = 0
    ) -> list[tuple[str, int]]:
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._rows(
            "SELECT t, COUNT(*) FROM {s}.decisions d, unnest(d.terms) t WHERE d.tenant = %s"
            " AND d.time >= %s AND d.outcome >= %s AND t >= %s AND t < %s"
            " GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10",
            (tenant, since, min_outcome, prefix, end),
        )
        return [(str(term)[len(prefix) :], int(n)) for term, n in rows]

    def shadow_hits(self, last: int) -> list[tuple[str, int]]:
        # each writer's newest ``last`` (its (writer, seq) index), then the newest
        # ``last`` of those by event time: no index on all tenants' times is needed. A
        # GIN index matches whole terms, never a prefix, so this reads the rows: at most
        # SHADOW_SCAN of them (~0.5 s per 40k on the shared dev VM), within the timeout
        last = min(last, SHADOW_SCAN)
        rows = self._rows(
            "SELECT t, COUNT(*) FROM (SELECT n.gid, n.terms FROM {s}.writers w"
            " CROSS JOIN LATERAL (SELECT x.gid, x.time, x.terms FROM {s}.decisions x"
            " WHERE x.writer = w.id ORDER BY x.seq DESC LIMIT %s) n"
            " ORDER BY n.time DESC, n.gid DESC"
            " LIMIT %s) d, unnest(d.terms) t WHERE t >= 'shadow:' AND t < 'shadow;'"
            " GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10",
            (last, last),
        )
        return [(str(term)[len("shadow:") :], int(n)) for term, n in rows]

    def held(self, tenant: str) -> Held:
        # decisions_held holds only held rows, per tenant: the bound counts this
        # tenant's open cases, never anybody else's traffic
        rows = self._rows(
            "SELECT d.gid, d.event_id, d.time, d.outcome, d.facts, d.decision"
            " FROM {s}.decisions d WHERE d.tenant = %s AND d.outcome IN (1, 2)"
            " AND d.redacted = 0 AND NOT EXISTS (SELECT 1 FROM {s}.labels l"
            " WHERE l.tenant = d.tenant AND l.event_id = d.event_id)"
            " ORDER BY d.time DESC, d.gid DESC LIMIT %s",
            (tenant, self.held_bound + 1),
        )
        typed: list[HeldRow] = [
            (int(g), str(e), float(t), int(o), bytes(f), bytes(d)) for g, e, t, o, f, d in rows
        ]
        return held_of(typed, self.held_bound)

    def decisions(self, tenant: str, seqs: list[int]) -> dict[int, Decision]:
        if not seqs:
            return {}
        rows = self._rows(
            "SELECT gid, decision FROM {s}.decisions WHERE tenant = %s AND gid = ANY(%s)"
            " AND redacted != 2",
            (tenant, list(seqs)),
        )
        return {int(gid): decision_decoder.decode(bytes(raw)) for gid, raw in rows}

    def timeline(
        self, tenant: str, entity: str, before: int | None = None, limit: int = 20
    ) -> Found:
        return self._log.search(
            DecisionQuery(tenant=tenant, entity=entity, before=before, limit=limit)
        )

    def rule_hits(
        self, tenant: str, rule: str, before: int | None = None, limit: int = 20
    ) -> Found:
        return self._log.search(DecisionQuery(tenant=tenant, rule=rule, before=before, limit=limit))

    def linked(self, tenant: str, entity: str, scan: int = 1000) -> list[Linked]:
        rows = self._rows(
            "SELECT time, facts, decision FROM {s}.decisions WHERE tenant = %s"
            " AND terms @> ARRAY[%s]::text[] AND redacted != 2 ORDER BY gid DESC LIMIT %s",
            (tenant, entity, scan),
        )
        return linked_of(((float(t), bytes(f), bytes(d)) for t, f, d in rows), entity)
