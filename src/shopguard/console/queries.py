"""What the console's pages read from the journal, per tenant: the ``ConsoleQueries``
protocol. Pages talk only to it; ``console/sqlite_queries.py`` answers it from the SQLite
journal and its term index, and a PostgreSQL journal would add its own implementation.
A journal with nothing to query (the memory log) gets :class:`NoQueries`."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from shopguard.decision import Decision
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


def queries_for(log: Any, held_bound: int = 20_000) -> ConsoleQueries:
    """The console's queries over an engine's journal. ``held_bound``: open events read
    per tenant for the queue (its page decodes each: 20k in ~0.6 s on the shared dev VM)."""
    reader = getattr(log, "reader", None)
    if reader is None:
        return NoQueries()
    from shopguard.console.sqlite_queries import SqliteConsoleQueries

    return SqliteConsoleQueries(reader, held_bound)
