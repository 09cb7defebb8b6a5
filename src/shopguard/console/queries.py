"""What the console's pages read from the journal, per tenant: the ``ConsoleQueries``
protocol. Pages talk only to it; ``console/sqlite_queries.py`` answers it from the SQLite
journal and its term index, ``console/postgres_queries.py`` from the PostgreSQL journal
(every writer's decisions; its seqs are the journal-wide ``gid``). A journal with nothing
to query (the memory log) gets :class:`NoQueries`. What both read out of a row (a held
event's case, the entities linked on a decision) is here, so they answer alike."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, Protocol

import msgspec

from shopguard.decision import Decision, decision_decoder
from shopguard.desensitize.schema import PSEUDONYMIZED
from shopguard.state.search import Found

OUTCOMES = ("allow", "review", "challenge", "deny")
# The kinds a review case is keyed by, most specific first: an SMS held by its phone
# alone (no account) is still a case.
CASE_KINDS = ("account", "device", "phone", "email", "card", "ip")


class HeldEvent(msgspec.Struct, frozen=True):
    """One reviewed or challenged decision nobody has labelled yet."""

    seq: int
    event_id: str
    time: float
    outcome: str
    entity: str  # kind:pseudonym of the case it belongs to (CASE_KINDS)
    account: str | None
    campaign: str | None
    rules: tuple[str, ...]


class Held(msgspec.Struct, frozen=True):
    events: list[HeldEvent]  # newest first
    truncated: bool  # more open events than the bound: the oldest are not shown


class Linked(msgspec.Struct, frozen=True):
    """Another entity seen on the decisions of one entity."""

    kind: str
    value: str  # pseudonym
    count: int  # decisions it shares with the entity
    mask: str = ""  # the display mask of the newest of them, where there is one
    last: float = 0.0  # event time of the newest


class ConsoleQueries(Protocol):
    def newest_time(self, tenant: str) -> float | None:
        """Event time of the tenant's newest decision."""

    def per_minute(self, tenant: str, since: float) -> dict[int, list[int]]:
        """Minute (epoch // 60) -> decisions by outcome, from ``since`` (event time)."""

    def top_terms(
        self, tenant: str, prefix: str, since: float, min_outcome: int = 0
    ) -> list[tuple[str, int]]:
        """The ten most frequent ``rule:`` or ``campaign:`` terms since ``since``."""

    def shadow_hits(self, last: int) -> list[tuple[str, int]]:
        """Shadow rules' hits over the newest ``last`` decisions of every tenant (the
        operator's rules page)."""

    def held(self, tenant: str) -> Held:
        """The tenant's open review and challenge decisions, newest first, at most the
        implementation's bound of them: other tenants' traffic never crowds them out."""

    def decisions(self, tenant: str, seqs: list[int]) -> dict[int, Decision]:
        """The tenant's decisions at these seqs."""

    def timeline(
        self, tenant: str, entity: str, before: int | None = None, limit: int = 20
    ) -> Found:
        """Decisions naming ``entity`` (kind:pseudonym), newest first, paged."""

    def rule_hits(
        self, tenant: str, rule: str, before: int | None = None, limit: int = 20
    ) -> Found:
        """Decisions a rule (or list) weighed in on, newest first, paged."""

    def linked(self, tenant: str, entity: str, scan: int = 1000) -> list[Linked]:
        """Other entities on the facts of ``entity``'s newest ``scan`` decisions, most
        shared first."""


class NoQueries:
    """A journal with nothing to query: every page renders, empty."""

    def newest_time(self, tenant: str) -> float | None:
        return None

    def per_minute(self, tenant: str, since: float) -> dict[int, list[int]]:
        return {}

    def top_terms(
        self, tenant: str, prefix: str, since: float, min_outcome: int = 0
    ) -> list[tuple[str, int]]:
        return []

    def shadow_hits(self, last: int) -> list[tuple[str, int]]:
        return []

    def held(self, tenant: str) -> Held:
        return Held([], False)

    def decisions(self, tenant: str, seqs: list[int]) -> dict[int, Decision]:
        return {}

    def timeline(
        self, tenant: str, entity: str, before: int | None = None, limit: int = 20
    ) -> Found:
        return Found([])

    def rule_hits(
        self, tenant: str, rule: str, before: int | None = None, limit: int = 20
    ) -> Found:
        return Found([])

    def linked(self, tenant: str, entity: str, scan: int = 1000) -> list[Linked]:
        return []


class _CaseFacts(msgspec.Struct):
    """The few facts a review case is grouped by (the rest are skipped undecoded)."""

    account: str | None = None
    device: str | None = None
    phone: str | None = None
    email: str | None = None
    card: str | None = None
    ip: str | None = None
    campaign: str | None = None


class _RuleOf(msgspec.Struct):
    rule: str


class _Reasons(msgspec.Struct):
    reasons: list[_RuleOf] = []


_case_facts = msgspec.msgpack.Decoder(_CaseFacts)
_reasons = msgspec.json.Decoder(_Reasons)
_facts = msgspec.msgpack.Decoder(dict[str, Any])
HeldRow = tuple[int, str, float, int, bytes, bytes]  # seq, event_id, time, outcome, facts, decision


def held_of(rows: list[HeldRow], bound: int) -> Held:
    """The queue's events from up to ``bound`` + 1 held rows, newest first."""
    events = []
    for seq, event_id, at, outcome, facts_raw, decision_raw in rows[:bound]:
        facts = _case_facts.decode(facts_raw)
        entity = next((f"{k}:{getattr(facts, k)}" for k in CASE_KINDS if getattr(facts, k)), "")
        if not entity:
            continue
        rules = tuple({r.rule: None for r in _reasons.decode(decision_raw).reasons})
        held = HeldEvent(
            seq, event_id, at, OUTCOMES[outcome], entity, facts.account, facts.campaign, rules
        )
        events.append(held)
    return Held(events, len(rows) > bound)


def linked_of(rows: Iterable[tuple[float, bytes, bytes]], entity: str) -> list[Linked]:
    """The other entities on ``entity``'s decisions (time, facts, decision), most shared
    first, each with the display mask of its newest."""
    found: dict[tuple[str, str], list[Any]] = {}  # -> [count, mask, newest time]
    for at, facts_raw, decision_raw in rows:
        display = decision_decoder.decode(decision_raw).display
        for kind, value in _facts.decode(facts_raw).items():
            if kind not in PSEUDONYMIZED or not isinstance(value, str):
                continue
            if f"{kind}:{value}" == entity:
                continue
            seen = found.setdefault((kind, value), [0, "", 0.0])
            seen[0] += 1
            if at >= seen[2]:
                seen[1], seen[2] = display.get(kind, seen[1]), at
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], -item[1][2], item[0]))
    return [Linked(k, v, n, mask, last) for (k, v), (n, mask, last) in ranked]


def queries_for(log: Any, held_bound: int = 20_000) -> ConsoleQueries:
    """The console's queries over an engine's journal. ``held_bound``: open events read
    per tenant for the queue (its page decodes each: 20k in ~0.6 s on the shared dev VM)."""
    reader = getattr(log, "reader", None)
    if reader is not None:
        from shopguard.console.sqlite_queries import SqliteConsoleQueries

        return SqliteConsoleQueries(reader, held_bound)
    # a PostgreSQL journal exists only once its module is imported (psycopg stays unloaded)
    spool = sys.modules.get("shopguard.state.spool.log")
    if spool is not None and isinstance(log, spool.SpoolingLog):
        log = log.primary  # what was spooled is queried once drained, as search does
    postgres = sys.modules.get("shopguard.state.postgres.log")
    if postgres is not None and isinstance(log, postgres.PostgresDecisionLog):
        from shopguard.console.postgres_queries import PostgresConsoleQueries

        return PostgresConsoleQueries(log, held_bound)
    return NoQueries()
