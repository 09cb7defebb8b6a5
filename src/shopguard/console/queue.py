"""The review queue: open held events folded into cases (one per entity), and the cases
grouped by ring, campaign or rule with counts, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from shopguard.console.queries import Held

GROUPINGS = ("case", "ring", "campaign", "rule")  # "case": the cases themselves, no groups
CASE_EVENTS = 500  # event ids one case carries (forms.MAX_EVENTS): the rest wait their turn
NONE = "-"  # the group of cases with no ring (or no campaign)
PAGE = 20


class Case(msgspec.Struct):
    """Undecided review/challenge events of one entity, newest first."""

    entity: str  # kind:pseudonym
    events: list[str]  # the newest CASE_EVENTS, what a verdict on the case labels
    latest_seq: int
    latest_time: float
    outcome: str  # the newest event's
    ring: str = NONE
    campaigns: list[str] = []
    rules: list[str] = []
    count: int = 0  # open events of the entity, all of them

    def keys(self, by: str) -> list[str]:
        """The groups this case is counted in under ``by`` (a case may hit several rules)."""
        if by == "ring":
            return [self.ring]
        if by == "campaign":
            return self.campaigns or [NONE]
        if by == "rule":
            return self.rules or [NONE]
        return [self.entity]


class Group(msgspec.Struct):
    key: str
    cases: int
    events: int
    newest: float


def cases_of(held: Held, ring_of: Callable[[str], str | None]) -> list[Case]:
    """One case per entity, newest case first; ``ring_of(account)``: its ring id."""
    cases: dict[str, Case] = {}
    for e in held.events:  # newest first
        case = cases.get(e.entity)
        if case is None:
            ring = (ring_of(e.account) if e.account else None) or NONE
            case = cases[e.entity] = Case(e.entity, [], e.seq, e.time, e.outcome, ring)
        case.count += 1
        if len(case.events) < CASE_EVENTS:
            case.events.append(e.event_id)
        if e.campaign and e.campaign not in case.campaigns:
            case.campaigns.append(e.campaign)
        case.rules.extend(r for r in e.rules if r not in case.rules)
    return list(cases.values())


def groups(cases: list[Case], by: str) -> list[Group]:
    """Groups under ``by``, the most cases first."""
    out: dict[str, Group] = {}
    for case in cases:
        for key in case.keys(by):
            group = out.setdefault(key, Group(key, 0, 0, case.latest_time))
            group.cases += 1
            group.events += case.count
            group.newest = max(group.newest, case.latest_time)
    return sorted(out.values(), key=lambda g: (-g.cases, -g.newest, g.key))


def in_group(cases: list[Case], by: str, key: str) -> list[Case]:
    return [c for c in cases if key in c.keys(by)]


class Paged(msgspec.Struct):
    number: int  # 1-based, clamped to the pages there are
    pages: int
    first: int  # 1-based index of the first item shown (0 when none)
    last: int
    total: int


def page_of(total: int, asked: str, size: int = PAGE) -> Paged:
    """Which items page ``asked`` (a query parameter, maybe junk) shows."""
    pages = max(1, -(-total // size))
    number = int(asked) if asked.isdecimal() and len(asked) <= 9 else 1
    number = min(max(number, 1), pages)
    first = (number - 1) * size
    return Paged(number, pages, first + 1 if total else 0, min(first + size, total), total)
