"""The console's query protocol over the SQLite journal: per tenant, bounded per tenant
(another tenant's flood never hides a case), entity timelines and linked entities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopguard.console.queries import ConsoleQueries, NoQueries, queries_for
from shopguard.console.sqlite_queries import SqliteConsoleQueries
from shopguard.decision import Decision, Reason
from shopguard.labels import Label
from shopguard.state.protocol import LogRecord
from shopguard.state.sqlite import SqliteDecisionLog

OUTCOME = {"allow": 0, "review": 1, "challenge": 2, "deny": 3}


class Journal:
    def __init__(self, path: Path) -> None:
        self.log = SqliteDecisionLog(path / "decisions.db")
        self.seq = 0

    def add(self, tenant: str, event_id: str, outcome: str = "review", **facts: Any) -> int:
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
        return self.seq

    def queries(self, bound: int = 100) -> SqliteConsoleQueries:
        self.log.commit()
        return SqliteConsoleQueries(self.log.reader, bound)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path)


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
    journal.add("shop", "one")
    queries = journal.queries()
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
    mine = journal.add("shop", "s1", account="k1.a", rule="velocity")
    journal.add("rival", "r1", account="k1.b", rule="velocity")
    queries = journal.queries()
    assert [d.event_id for d in queries.rule_hits("shop", "velocity").decisions] == ["s1"]
    assert queries.top_terms("shop", "rule:", 0.0) == [("velocity", 1)]
    assert queries.newest_time("shop") == 1.0 and queries.newest_time("nobody") is None
    assert list(queries.decisions("shop", [mine, mine + 1])) == [mine]  # not the rival's
    assert sum(sum(v) for v in queries.per_minute("shop", 0.0).values()) == 1


def test_a_memory_journal_gets_the_empty_queries() -> None:
    from shopguard.state.memory import MemoryDecisionLog

    queries: ConsoleQueries = queries_for(MemoryDecisionLog())
    assert isinstance(queries, NoQueries)
    assert queries.held("shop").events == [] and queries.linked("shop", "account:x") == []
