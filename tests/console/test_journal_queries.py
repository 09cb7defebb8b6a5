"""The console's query protocol over the SQLite and the PostgreSQL journal: per tenant,
bounded per tenant (another tenant's flood never hides a case), entity timelines and
linked entities, each PostgreSQL query on an index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopguard.console.queries import ConsoleQueries, NoQueries, queries_for
from shopguard.decision import Decision, Reason
from shopguard.labels import Label
from shopguard.state.protocol import LogRecord
from shopguard.state.sqlite import SqliteDecisionLog
from tests.state.pg import DSN, pg_schema

OUTCOME = {"allow": 0, "review": 1, "challenge": 2, "deny": 3}


class Journal:
    """A journal of either backend, written record by record as an engine would."""

    def __init__(self, path: Path, schema: str | None = None) -> None:
        self.log: Any
        if schema is None:
            self.log = SqliteDecisionLog(path / "decisions.db")
        else:
            from shopguard.state.postgres import PostgresDecisionLog

            self.log = PostgresDecisionLog(DSN, schema, 5.0, key=b"k" * 32)
        self.seq = 0

    def add(self, tenant: str, event_id: str, outcome: str = "review", **facts: Any) -> None:
        self.seq += 1
        rule = facts.pop("rule", "big_payment")
        reasons = [] if outcome == "allow" else [Reason(rule, rule.upper(), outcome, 1.0, "r")]
        display = {k: f"{k}-mask-{v[-2:]}" for k, v in facts.items() if k in ("phone", "card")}
        decision = Decision(
            event_id, tenant, "payment", float(self.seq), outcome, 0.0, reasons, "r0", "t", 1,
            display=display,
        )  # fmt: skip
        all_facts = {"event_id": event_id, "type": "payment", "tenant": tenant, **facts}
        record = LogRecord(
            self.seq, tenant, event_id, float(self.seq), "payment", OUTCOME[outcome],
            all_facts, decision,
        )  # fmt: skip
        self.log.append(record)

    def queries(self, bound: int = 100) -> ConsoleQueries:
        self.log.commit()
        return queries_for(self.log, bound)

    def console_seq(self, tenant: str, event_id: str) -> int:
        """The seq the console names a decision by (PostgreSQL: its journal-wide gid)."""
        self.log.commit()
        if isinstance(self.log, SqliteDecisionLog):
            found = self.log.seq_of(tenant, event_id)
            assert found is not None
            return found
        row = self.log.db().execute(
            f"SELECT gid FROM {self.log.s}.decisions WHERE tenant = %s AND event_id = %s",
            (tenant, event_id),
        )
        return int(row.fetchone()[0])


@pytest.fixture(params=["sqlite", "postgres"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "sqlite":
        found = Journal(tmp_path)
        yield found
        found.log.close()
        return
    with pg_schema("console") as schema:
        found = Journal(tmp_path, schema)
        yield found
        found.log.close()


def test_a_flood_of_another_tenant_never_hides_a_case(journal: Journal) -> None:
    journal.add("shop", "mine", account="k1.victim", campaign="gift")
    for i in range(150):  # more held events than the bound, all the rival's, all newer
        journal.add("rival", f"flood-{i}", account=f"k1.r{i}")
    for i in range(300):
        journal.add("rival", f"quiet-{i}", "allow", account=f"k1.q{i}")
    queries = journal.queries(bound=100)
    held = queries.held("shop")
    assert [e.event_id for e in held.events] == ["mine"] and not held.truncated
    assert held.events[0].entity == "account:k1.victim" and held.events[0].campaign == "gift"
    assert held.events[0].rules == ("big_payment",)
    rival = queries.held("rival")
    assert len(rival.events) == 100 and rival.truncated  # bounded per tenant
    assert rival.events[0].event_id == "flood-149"  # newest first


def test_the_queue_reads_the_held_index(journal: Journal) -> None:
    journal.add("shop", "one", account="k1.one")
    queries = journal.queries()
    if isinstance(journal.log, SqliteDecisionLog):
        db = journal.log.reader()
        executed: list[str] = []
        db.set_trace_callback(executed.append)  # each statement with its values bound
        try:
            queries.held("shop")
        finally:
            db.set_trace_callback(None)
        (sql,) = [s for s in executed if "outcome IN (1, 2)" in s]
        plan = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        assert any("decisions_held" in str(row) for row in plan), plan
        return
    assert [e.event_id for e in queries.held("shop").events] == ["one"]
    for name in ("decisions_held", "decisions_tenant_time"):  # in the journal's migrations
        assert _pg_index_used(journal, name) == name


def _pg_index_used(journal: Journal, index: str) -> str:
    """The journal index serving the held query (or the overview's time query) when a
    scan of the whole table is off the table (a few rows make any plan): the parent
    index of the partition's index in the plan."""
    s, db = journal.log.s, journal.log.db()
    query = {
        "decisions_held": f"SELECT gid FROM {s}.decisions d WHERE d.tenant = 'shop' AND"
        " d.outcome IN (1, 2) AND d.redacted = 0 ORDER BY d.time DESC, d.gid DESC LIMIT 21",
        "decisions_tenant_time": f"SELECT MAX(time) FROM {s}.decisions WHERE tenant = 'shop'",
    }[index]
    with db.transaction():
        db.execute("SET LOCAL enable_seqscan = off")
        db.execute("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(str(r[0]) for r in db.execute(f"EXPLAIN {query}"))
    used = re.search(r" using (\S+) on ", plan)
    assert used is not None, plan
    parent = db.execute(
        "SELECT p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname = %s",
        (used.group(1),),
    ).fetchone()
    return str(parent[0]) if parent else used.group(1)


def test_labelled_allowed_and_denied_events_are_not_open(journal: Journal) -> None:
    journal.add("shop", "open", account="k1.a")
    journal.add("shop", "labelled", account="k1.b")
    journal.add("shop", "denied", "deny", account="k1.c")
    journal.add("shop", "allowed", "allow", account="k1.d")
    journal.add("shop", "sms", "challenge", phone="k1.p")  # no account: a case by its phone
    journal.log.commit()
    journal.log.add_label(Label(tenant="shop", kind="fraud", known_at=1.0, event_id="labelled"))
    held = journal.queries().held("shop")
    assert [(e.event_id, e.entity) for e in held.events] == [
        ("sms", "phone:k1.p"),
        ("open", "account:k1.a"),
    ]


def test_timeline_pages_newest_first_and_linked_counts_shared_values(journal: Journal) -> None:
    for i in range(5):
        journal.add("shop", f"e{i}", "allow", account="k1.me", card="k1.card1", phone="k1.ph1")
    journal.add("shop", "e5", "allow", account="k1.me", card="k1.card2")
    journal.add("rival", "x", "allow", account="k1.me", card="k1.theirs")  # another tenant
    queries = journal.queries()
    first = queries.timeline("shop", "account:k1.me", limit=4)
    assert [d.event_id for d in first.decisions] == ["e5", "e4", "e3", "e2"]
    rest = queries.timeline("shop", "account:k1.me", before=first.next_before, limit=4)
    assert [d.event_id for d in rest.decisions] == ["e1", "e0"] and rest.next_before is None
    linked = queries.linked("shop", "account:k1.me")
    assert [(x.kind, x.value, x.count) for x in linked] == [
        ("card", "k1.card1", 5),
        ("phone", "k1.ph1", 5),
        ("card", "k1.card2", 1),
    ]
    assert linked[0].mask == "card-mask-d1"  # the display mask, never a raw value


def test_rule_hits_top_terms_and_decisions_are_per_tenant(journal: Journal) -> None:
    journal.add("shop", "s1", account="k1.a", rule="velocity")
    journal.add("rival", "r1", account="k1.b", rule="velocity")
    queries = journal.queries()
    mine, theirs = journal.console_seq("shop", "s1"), journal.console_seq("rival", "r1")
    assert [d.event_id for d in queries.rule_hits("shop", "velocity").decisions] == ["s1"]
    assert queries.top_terms("shop", "rule:", 0.0) == [("velocity", 1)]
    assert queries.newest_time("shop") == 1.0 and queries.newest_time("nobody") is None
    assert list(queries.decisions("shop", [mine, theirs])) == [mine]  # not the rival's
    assert sum(sum(v) for v in queries.per_minute("shop", 0.0).values()) == 1


def test_a_memory_journal_gets_the_empty_queries() -> None:
    from shopguard.state.memory import MemoryDecisionLog

    queries: ConsoleQueries = queries_for(MemoryDecisionLog())
    assert isinstance(queries, NoQueries)
    assert queries.held("shop").events == [] and queries.linked("shop", "account:x") == []


def test_postgres_queries_read_every_writer_newest_first_by_commit() -> None:
    from shopguard.state.postgres import PostgresDecisionLog

    with pg_schema("console") as schema:
        ours, theirs = (
            PostgresDecisionLog(DSN, schema, 5.0, writer=w, key=b"k" * 32) for w in ("w1", "w2")
        )
        try:
            for n, (log, event_id) in enumerate([(ours, "a"), (theirs, "b"), (ours, "c")]):
                rule = "late_rule" if event_id == "c" else "quiet_rule"
                shadow = [Reason(rule, rule.upper(), "deny", 1.0, "r")]
                decision = Decision(event_id, "shop", "payment", n + 1.0, "review", 0.0, [], "r0",
                                    "t", 1, shadow=shadow)  # fmt: skip
                facts = {"account": f"k1.{event_id}", "card": "k1.shared"}
                seq = n // 2 + 1 if log is ours else 1  # each writer's own seqs
                record = LogRecord(seq, "shop", event_id, n + 1.0, "payment", 1, facts, decision)
                log.append(record)
                log.commit()
            queries = queries_for(ours, 100)
            assert [e.event_id for e in queries.held("shop").events] == ["c", "b", "a"]
            assert queries.shadow_hits(1) == [("late_rule", 1)]  # the newest of all
            assert queries.shadow_hits(10) == [("quiet_rule", 2), ("late_rule", 1)]
            linked = queries.linked("shop", "card:k1.shared")
            assert {x.value for x in linked} == {"k1.a", "k1.b", "k1.c"}
            seqs = [e.seq for e in queries.held("shop").events]
            assert sorted(queries.decisions("shop", seqs)) == sorted(seqs)  # gids, not seqs
        finally:
            ours.close()
            theirs.close()
