"""The backtest pages and the rollout form: a candidate version against the champion over
the journal's recent decisions or an uploaded file, shown as changes, rules and samples."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from shopguard.config import load_pack
from shopguard.yamlio import load_yaml
from tests.backtest.test_backtest import BIG, DENY_BIG, _payment
from tests.console.conftest import Console


def _wire(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "time": event["time"].isoformat().replace("+00:00", "Z")}


def _candidate_text() -> str:
    doc = load_yaml(load_pack("starter").rules_text)
    return json.dumps({**doc, "rules": [*doc["rules"], DENY_BIG]})


def _finished(number: int) -> None:
    """Wait for the job's thread itself (no timing): the page reads what it left."""
    for thread in threading.enumerate():
        if thread.name == f"backtest-{number}":
            thread.join()


def _staged(console: Console) -> str:
    csrf = console.login("ana")
    key = console.served.auth(console.served.shop_admin)
    events = [_wire(_payment(i, BIG if i >= 20 else 40.0)) for i in range(25)]
    assert console.client.post("/v1/decisions:batch", json=events, headers=key).status_code == 200
    form = {"csrf": csrf, "action": "upload", "text": _candidate_text(), "note": "ceiling"}
    assert "uploaded version 1" in console.client.post("/console/rules", data=form).text
    return csrf


def test_a_backtest_over_the_journal_shows_what_changes(console: Console) -> None:
    csrf = _staged(console)
    page = console.client.get("/console/backtests")
    assert page.status_code == 200 and "1: r1+" in page.text and "ceiling" in page.text
    started = console.client.post(
        "/console/backtests",
        data={"csrf": csrf, "number": "1", "hours": "24"},
        follow_redirects=False,
    )
    assert started.status_code == 303 and started.headers["location"] == "/console/backtests/1"
    _finished(1)
    shown = console.client.get("/console/backtests/1").text
    assert "<strong>5</strong> of 25 decisions change" in shown and "open loop" in shown
    changes = re.search(r'<table id="changes">(.*?)</table>', shown, re.S)
    assert changes is not None and "<td>allow</td><td>deny</td><td>5</td>" in changes.group(1)
    assert "<code>deny_big_payment</code></td><td>0</td><td>5</td><td>5</td>" in shown
    assert "DENY_BIG_PAYMENT: payment of 5000.0 over the new ceiling" in shown  # a sample
    assert "5 of 25 change" in console.client.get("/console/backtests").text


def test_an_uploaded_file_with_labels_gives_recall_and_friction(console: Console) -> None:
    csrf = _staged(console)
    lines = [
        json.dumps({"event": _wire(_payment(100 + i, BIG)), "truth": {"label": int(i < 3)}})
        for i in range(4)
    ]
    started = console.client.post(
        "/console/backtests",
        data={"csrf": csrf, "number": "1", "hours": ""},
        files={"file": ("events.jsonl", "\n".join(lines).encode(), "application/x-ndjson")},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    number = int(started.headers["location"].rsplit("/", 1)[1])
    _finished(number)
    shown = console.client.get(f"/console/backtests/{number}").text
    labels = re.search(r'<table id="labels">(.*?)</table>', shown, re.S)
    assert labels is not None
    assert "<td>0.00 %</td><td>100.00 %</td><td>+100.00 pt</td>" in labels.group(1)  # recall
    assert (
        "<td>0.00 %</td><td>100.00 %</td><td>+100.00 pt</td>"
        in labels.group(1).split("friction")[1]
    )  # the one honest event, denied


def test_backtests_are_for_operator_admins_with_the_csrf_token(console: Console) -> None:
    csrf = _staged(console)
    refused = console.client.post("/console/backtests", data={"number": "1", "hours": "24"})
    assert refused.status_code == 403  # no CSRF token
    bad = console.client.post(
        "/console/backtests", data={"csrf": csrf, "number": "9", "hours": "24"}
    )
    assert bad.status_code == 400 and "no ruleset version 9" in bad.text
    assert console.client.get("/console/backtests/77").status_code == 200  # "no such backtest"
    console.client.post("/console/logout", data={"csrf": csrf})
    console.login("rex")  # another tenant's analyst
    assert console.client.get("/console/backtests").status_code == 403


def test_a_rollout_from_the_rules_page(console: Console) -> None:
    csrf = _staged(console)
    form = {"csrf": csrf, "action": "rollout", "number": "1", "percent": "10", "by": "device"}
    page = console.client.post("/console/rules", data=form)
    assert page.status_code == 200, page.text
    assert "rolled out to 10 % of traffic by device" in page.text
    assert console.served.rulesets.standing().rollout is not None
    wrong = console.client.post("/console/rules", data={**form, "percent": "lots"})
    assert wrong.status_code == 400 and "a number from 0 to 100" in wrong.text
