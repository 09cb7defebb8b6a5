from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.evaluate import Scoreboard


def test_recall_counts_only_harm_events_and_caught_means_challenge_or_deny() -> None:
    board = Scoreboard()
    # wool_party harms at promo.claim: the sign-up before it does not count for recall.
    board.add({"type": "account.register"}, "allow", "wool_party", 0)
    board.add({"type": "promo.claim", "value": 20.0}, "deny", "wool_party", 10)
    board.add({"type": "promo.claim", "value": 20.0}, "challenge", "wool_party", 20)
    board.add({"type": "promo.claim", "value": 20.0}, "review", "wool_party", 30)
    score = board.attacks["wool_party"]
    assert (score.events, score.harm_events, score.caught) == (4, 3, 2)
    assert score.recall == pytest.approx(2 / 3)
    assert (score.at_stake, score.saved) == (60.0, 40.0)
    lost = board.add({"type": "promo.claim", "value": 20.0}, "allow", "wool_party", 40)
    assert lost == 20.0  # a harm event let through: the loss a label confirms later


def test_friction_is_shares_of_honest_events() -> None:
    board = Scoreboard()
    for outcome in ["allow"] * 996 + ["review", "challenge", "deny", "deny"]:
        board.add({"type": "payment", "amount": 5.0}, outcome, "", 0)
    assert board.friction() == {"allow": 0.996, "review": 0.001, "challenge": 0.001, "deny": 0.002}
    assert not board.attacks


def test_evaluate_writes_a_report_and_a_chart(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["evaluate", "--events", "20000", "--seed", "3", "--out-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = (tmp_path / "report.md").read_text()
    assert "| wool_party |" in report and "Money saved" in report
    assert "## Merchant health" in report and "| m-brush-" in report  # the brushing ring's shop
    assert (tmp_path / "outcomes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ring_accounts_stopped_before_their_second_harm() -> None:
    board = Scoreboard()
    claim = {"type": "promo.claim", "value": 20.0}
    # a: one harm through, then caught: stopped early. b: two through: not stopped.
    # c: every harm caught: stopped. d: never reached the point of harm: not counted.
    stream = [
        ("a", "allow"),
        ("a", "deny"),
        ("a", "challenge"),
        ("b", "allow"),
        ("b", "review"),
        ("b", "deny"),
        ("c", "deny"),
    ]
    for account, outcome in stream:
        board.add({**claim, "account": account}, outcome, "wool_party", 0)
    board.add({"type": "account.register", "account": "d"}, "allow", "wool_party", 0)
    score = board.attacks["wool_party"]
    assert score.accounts == 3
    assert score.stopped_early == pytest.approx(2 / 3)
    board.add({"type": "sms.send", "phone": "+44 7911000001"}, "allow", "sms_pumping_intl", 0)
    assert board.attacks["sms_pumping_intl"].stopped_early is None  # no accounts


def test_honest_accounts_ever_denied() -> None:
    board = Scoreboard()
    for account, outcome in [("h1", "allow"), ("h1", "deny"), ("h1", "deny"), ("h2", "review")]:
        board.add({"type": "payment", "amount": 5.0, "account": account}, outcome, "", 0)
    for n in range(3, 11):
        board.add({"type": "payment", "amount": 5.0, "account": f"h{n}"}, "allow", "", 0)
    board.add({"type": "http.request", "path": "/"}, "deny", "", 0)  # no account: events only
    assert board.honest_accounts_denied() == pytest.approx(1 / 10)
    assert board.friction()["deny"] == pytest.approx(3 / 13)
