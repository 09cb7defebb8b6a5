"""Backtests: the champion and a candidate over the same history, every change reported
by outcome and by rule, with recall and honest friction from the labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from shopguard.backtest import backtest_engine, candidate_rules, over_file, over_journal
from shopguard.cli import app
from shopguard.config import load_pack
from shopguard.replay import iter_events
from shopguard.settings import load_settings
from shopguard.yamlio import load_yaml
from tests.conftest import TEST_KEYS, event, make_engine

BIG = 5000.0
DENY_BIG = {
    "id": "deny_big_payment",
    "on": ["payment"],
    "when": f"amount > {BIG - 1:g}",
    "action": "deny",
    "reason": "payment of {amount} over the new ceiling",
}


def _payment(i: int, amount: float) -> dict[str, Any]:
    return event(
        "payment", f"p{i}", at=60.0 * i, account=f"acct-{i}", merchant="m1",
        order_id=f"o{i}", amount=amount, card=f"62220200000{i:05d}",
    )  # fmt: skip


def _history(tmp_path: Path) -> Path:
    """20 small honest payments, 4 big frauds, 1 big honest one: simulator JSONL."""
    lines = []
    for i in range(25):
        big, fraud = i >= 20, 20 <= i < 24
        truth = {"label": int(fraud), "attack": "card_testing" if fraud else ""}
        payment = {**_payment(i, BIG if big else 40.0), "time": f"2025-03-01T10:{i:02d}:00Z"}
        lines.append(json.dumps({"event": payment, "truth": truth}))
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _candidate(tmp_path: Path, extra: list[dict[str, Any]]) -> Path:
    doc = load_yaml(load_pack("starter").rules_text)
    doc["rules"] = [*doc["rules"], *extra]
    path = tmp_path / "candidate" / "rules.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def _compare(tmp_path: Path, extra: list[dict[str, Any]]) -> dict[str, Any]:
    settings = load_settings(None, {"keys": TEST_KEYS, "active_key": "k1"})
    pack = load_pack("starter")
    candidate = candidate_rules(pack, str(_candidate(tmp_path, extra).parent), None)
    engine = backtest_engine(settings, pack, pack.rules, candidate)
    return over_file(engine, iter_events(_history(tmp_path))).report()


def test_a_candidate_adding_a_deny_rule_changes_exactly_what_it_hits(tmp_path: Path) -> None:
    report = _compare(tmp_path, [DENY_BIG])
    assert report["events"] == 25 and report["changed"] == 5
    assert report["transitions"] == [{"champion": "allow", "candidate": "deny", "events": 5}]
    assert report["rules"] == [
        {
            "rule": "deny_big_payment",
            "champion_hits": 0,
            "candidate_hits": 5,
            "hits_delta": 5,
            "changes_added": 5,
            "changes_removed": 0,
        }
    ]
    sample = report["samples"][0]
    assert (sample["event_id"], sample["champion"], sample["candidate"]) == ("p20", "allow", "deny")
    assert sample["candidate_reasons"] == [
        "DENY_BIG_PAYMENT: payment of 5000.0 over the new ceiling"
    ]
    assert report["loop"] == "open"


def test_labels_give_recall_and_honest_friction_for_both_and_the_delta(tmp_path: Path) -> None:
    labels = _compare(tmp_path, [DENY_BIG])["labels"]
    champion, candidate, delta = labels["champion"], labels["candidate"], labels["delta"]
    assert (champion["positives"], champion["caught"], candidate["caught"]) == (4, 0, 4)
    assert (champion["recall"], candidate["recall"], delta["recall"]) == (0.0, 1.0, 1.0)
    assert (champion["fraud_flagged"], candidate["fraud_flagged"]) == (0.0, 1.0)
    assert champion["honest_events"] == 21 and champion["honest_friction"] == 0.0
    assert candidate["honest_share"]["deny"] == candidate["honest_friction"] == 1 / 21
    assert delta["honest_friction"] == 1 / 21


def test_an_identical_candidate_changes_nothing(tmp_path: Path) -> None:
    report = _compare(tmp_path, [])
    assert report["changed"] == 0 and report["transitions"] == [] and report["rules"] == []
    assert report["unchanged"] == {"allow": 25}
    assert report["labels"]["delta"] == {
        "recall": 0.0,
        "fraud_flagged": 0.0,
        "honest_friction": 0.0,
    }


def test_the_command_writes_json_and_markdown_and_reads_the_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    journal = make_engine(decision_log="sqlite", data_dir=str(data))
    journal.decide_many([_payment(i, BIG if i >= 20 else 40.0) for i in range(25)])
    journal.label({"tenant": "shop", "event_id": "p21", "kind": "fraud", "known_at": 1740900000.0})
    journal.close()
    candidate = _candidate(tmp_path, [DENY_BIG])
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    result = CliRunner().invoke(
        app,
        ["backtest", str(_history(tmp_path)), "--candidate", str(candidate),
         "--out", str(out_json), "--out", str(out_md), "--data-dir", str(data)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5 of 25 decisions change" in result.stdout and "open loop" in result.output
    assert json.loads(out_json.read_text())["changed"] == 5
    assert "| allow | deny | 5 |" in out_md.read_text()
    again = CliRunner().invoke(
        app,
        ["backtest", "--candidate", str(candidate), "--data-dir", str(data),
         "--since", "2025-03-01T10:10:00Z", "--out", str(out_json)],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    report = json.loads(out_json.read_text())
    # p10-p24 and the case.label the label journaled; p20-p24 change
    assert (report["events"], report["changed"]) == (16, 5)
    assert report["labels"]["candidate"]["positives"] == 1  # p21, labelled in the journal
    assert report["labels"]["delta"]["recall"] == 1.0


def test_a_bad_candidate_is_one_line(tmp_path: Path) -> None:
    broken = _candidate(tmp_path, [{**DENY_BIG, "when": "no_such_value > 1"}])
    result = CliRunner().invoke(
        app, ["backtest", str(_history(tmp_path)), "--candidate", str(broken)]
    )
    assert result.exit_code == 2 and "deny_big_payment" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["backtest", "x.jsonl", "--candidate", "7"])
    assert missing.exit_code == 2 and "no ruleset version 7" in missing.output


def test_the_journal_source_is_the_same_engine_path(tmp_path: Path) -> None:
    data = tmp_path / "data"
    journal = make_engine(decision_log="sqlite", data_dir=str(data))
    journal.decide_many([_payment(i, BIG) for i in range(3)])
    journal.close()
    settings = load_settings(None, {"keys": TEST_KEYS, "active_key": "k1"})
    pack = load_pack("starter")
    engine = backtest_engine(settings, pack, pack.rules, pack.rules)
    same = over_journal(engine, data / "decisions.db").report()
    assert (same["events"], same["changed"], same["labels"]) == (3, 0, None)


def test_closed_loop_counts_what_the_candidates_own_list_entries_decide(tmp_path: Path) -> None:
    """The candidate denies a big payment and lists the account: open loop counts that one
    change, closed loop also the account's three later payments (denied by the list)."""
    listing = {**DENY_BIG, "list": {"add": "deny", "entity": "account", "ttl": "24h"}}
    lines = []
    for i, amount in enumerate([BIG, 40.0, 40.0, 40.0]):
        payment = {**_payment(i, amount), "account": "acct-x", "card": f"622202000000{i:04d}"}
        payment["time"] = f"2025-03-01T10:0{i}:00Z"
        lines.append(json.dumps(payment))
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(lines) + "\n")
    candidate = _candidate(tmp_path, [listing])
    out = tmp_path / "r.json"
    counts = {}
    for loop in ([], ["--closed-loop"]):
        args = ["backtest", str(history), "--candidate", str(candidate), "--out", str(out)]
        result = CliRunner().invoke(app, args + loop)
        assert result.exit_code == 0, result.output
        report = json.loads(out.read_text())
        counts[report["loop"]] = report["changed"]
        if loop:
            assert {r["rule"]: r["changes_added"] for r in report["rules"]} == {
                "deny_big_payment": 1,
                "list:deny": 3,
            }
    assert counts == {"open": 1, "closed": 4}
