"""The review queue's cases, groups and pages."""

from __future__ import annotations

from shopguard.console.queries import Held, HeldEvent
from shopguard.console.queue import CASE_EVENTS, NONE, cases_of, groups, in_group, page_of


def _held(*events: tuple[str, str, str | None, tuple[str, ...]]) -> Held:
    return Held(
        [
            HeldEvent(100 - i, f"e{i}", 100.0 - i, "review", f"account:{a}", a, c, rules)
            for i, (a, _, c, rules) in enumerate(events)
        ],
        False,
    )


def test_cases_fold_per_entity_and_groups_count_cases_and_events() -> None:
    held = _held(
        ("a", "", "gift", ("r1",)),
        ("b", "", None, ("r1", "r2")),
        ("a", "", "gift", ("r2",)),
    )
    cases = cases_of(held, lambda account: "R-1" if account == "a" else None)
    assert [(c.entity, c.events, c.ring) for c in cases] == [
        ("account:a", ["e0", "e2"], "R-1"),
        ("account:b", ["e1"], NONE),
    ]
    by_rule = {g.key: (g.cases, g.events) for g in groups(cases, "rule")}
    assert by_rule == {"r1": (2, 3), "r2": (2, 3)}
    by_campaign = {g.key: (g.cases, g.events) for g in groups(cases, "campaign")}
    assert by_campaign == {"gift": (1, 2), NONE: (1, 1)}
    assert [c.entity for c in in_group(cases, "ring", NONE)] == ["account:b"]


def test_a_case_carries_at_most_what_one_verdict_labels() -> None:
    held = _held(*[("a", "", None, ("r1",))] * (CASE_EVENTS + 5))
    (case,) = cases_of(held, lambda account: None)
    assert len(case.events) == CASE_EVENTS and case.count == CASE_EVENTS + 5
    assert groups([case], "rule")[0].events == CASE_EVENTS + 5


def test_pages_are_clamped_and_junk_is_page_one() -> None:
    assert (page_of(45, "2").first, page_of(45, "2").last) == (21, 40)
    assert page_of(45, "99").number == 3 and page_of(45, "x").number == 1
    assert page_of(45, "9" * 40).number == 1 and page_of(0, "1").first == 0
