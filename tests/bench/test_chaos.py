"""bench/chaos.py's arithmetic and verdicts, on made-up answers (the harness itself runs
against a real server, from bench/, not here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from harness import find_key
from load import ERROR, TIMEOUT, answers
from report import failures, targets


def test_answers_count_decisions_per_second_and_statuses_inside_the_span() -> None:
    records = [(0.5, 200), (1.0, 200), (1.5, 503), (2.5, TIMEOUT), (3.0, ERROR), (9.0, 200)]
    span = answers(records, 1.0, 3.0)
    assert span["decisions_per_s"] == 0.5  # one 200 in two seconds; 0.5 and 9.0 are outside
    assert span["statuses"] == {"200": 1, "503": 1, "timeout": 1}


def test_only_5xx_other_than_503_count_as_failures() -> None:
    assert failures({"200": 10, "503": 7, "429": 2, "timeout": 1}) == 0
    assert failures({"500": 2, "502": 1, "503": 9}) == 3


def _span(rate: float, p99: float, statuses: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "decisions_per_s": rate,
        "statuses": statuses or {"200": 1},
        "healthz": {"p99_ms": p99},
        "readyz": {"200 ready": 1},
    }


def _result(slow_rate: float, slow_p99: float) -> dict[str, Any]:
    slow = {"before": _span(1000, 5), "fault": _span(slow_rate, slow_p99)}
    server = {
        "baseline": {"fault-free": _span(1000, 5)},
        "slow_login_body": {**slow, "slow_sockets": {"answers": {}}},
        "journal": {"checked": True, "missing": 0},
        "lookup_sample": {"200": 3},
        "verify": {"clean": True},
    }
    return {"settings": {"slow_sockets": 512}, "main": server}


@pytest.mark.parametrize(
    ("rate", "p99", "share_met", "p99_met"),
    [(800, 100, True, True), (799, 100.5, False, False)],
)
def test_slow_socket_targets_hold_at_80_percent_and_100_ms(
    rate: float, p99: float, share_met: bool, p99_met: bool
) -> None:
    verdicts = {t["target"]: t["met"] for t in targets(_result(rate, p99))}
    assert verdicts["512 slow sockets: decisions >= 80 % of the fault-free rate"] is share_met
    assert verdicts["512 slow sockets: /healthz p99 <= 100 ms"] is p99_met
    assert verdicts["nothing acknowledged is lost (journal, and a GET of a sample)"] is True


def test_a_lost_acknowledged_decision_fails_its_target() -> None:
    result = _result(1000, 5)
    result["main"]["journal"] = {"checked": True, "missing": 1}
    verdicts = {t["target"]: t["met"] for t in targets(result)}
    assert verdicts["nothing acknowledged is lost (journal, and a GET of a sample)"] is False


def test_a_key_is_found_in_output_or_else_in_a_file_of_the_data_dir(tmp_path: Path) -> None:
    key = "sg_0123abcd_s3cr3t-Value_x"
    assert find_key(f"admin key for tenant default:\n  {key}\n") == key
    (tmp_path / "decisions.db").write_text("sg_ffff_not-this-one")
    assert find_key("no key here", tmp_path) is None
    (tmp_path / "admin.key").write_text(key + "\n")
    assert find_key("no key here", tmp_path) == key
