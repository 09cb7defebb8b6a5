"""A ruleset rollout over HTTP and from the command line: the share's decisions name the
candidate, the standing says so, promotion ends it; another process's change is followed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from starlette.testclient import TestClient
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.rules import swap
from tests.api.conftest import Api
from tests.api.test_admin import _sms
from tests.rules.test_versions import DENY_SMS, REVIEW_SMS


def _accounts(client: TestClient, admin: dict[str, str], tag: str) -> list[dict[str, object]]:
    decisions: list[dict[str, object]] = []
    for start in range(0, 200, 50):  # the fixture's batches hold 50
        events = [
            {**_sms(f"{tag}{i}", f"1380000{i:04d}"), "account": f"a{i}"}
            for i in range(start, start + 50)
        ]
        answer = client.post("/v1/decisions:batch", json=events, headers=admin)
        assert answer.status_code == 200, answer.text
        decisions += answer.json()["decisions"]
    return decisions


def test_rollout_over_http(api: tuple[Api, TestClient]) -> None:
    served, client = api
    admin = served.auth(served.shop_admin)
    client.post("/v1/rulesets", json={"text": REVIEW_SMS}, headers=admin)
    client.post("/v1/rulesets", json={"text": DENY_SMS}, headers=admin)
    client.post("/v1/rulesets/1:publish", headers=admin)
    bad = client.post("/v1/rulesets/2:rollout", json={"percent": 150}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "$.percent"
    assert (
        client.post("/v1/rulesets/2:rollout", json={"by": "ip"}, headers=admin).status_code == 422
    )
    started = client.post("/v1/rulesets/2:rollout", json={"percent": 50}, headers=admin)
    assert started.status_code == 200, started.text
    assert started.json()["rollout"] == {"percent": 50.0, "by": "account"}
    assert started.json()["challenger"] == 2
    candidate = served.rulesets.version(2)
    assert candidate is not None
    decisions = _accounts(client, admin, "x")
    rolled = [d for d in decisions if d["ruleset_version"] == candidate.name]
    assert 60 <= len(rolled) <= 140  # binomial(200, 0.5): sd 7
    assert all(d["outcome"] == "deny" and f"rollout:{candidate.name}" in d["trace"] for d in rolled)
    again = _accounts(client, admin, "y")  # the same accounts go the same way
    assert [d["outcome"] for d in again] == [d["outcome"] for d in decisions]
    listing = client.get("/v1/rulesets", headers=admin).json()
    assert listing["standing"]["rollout"] == {"percent": 50.0, "by": "account"}
    assert listing["changes"][-1]["terms"] == '{"percent":50.0,"by":"account"}'
    promoted = client.post("/v1/rulesets:promote", headers=admin).json()
    assert (promoted["champion"], promoted["challenger"]) == (2, None)
    assert "rollout" not in promoted or promoted["rollout"] is None
    after = _accounts(client, admin, "z")
    assert {d["outcome"] for d in after} == {"deny"} and not any(d.get("trace") for d in after)


def test_the_command_line_rolls_out_and_a_running_server_follows(tmp_path: Path) -> None:
    served = Api(tmp_path)
    served.rulesets.upload(REVIEW_SMS, "alice")
    served.rulesets.upload(DENY_SMS, "bob")
    served.rulesets.change("publish", "alice", 1)
    swap.bring(served.engine, served.rulesets)
    result = CliRunner().invoke(
        app, ["rules", "rollout", "2", "--percent", "100", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "100 % by account" in result.stdout
    refused = CliRunner().invoke(
        app, ["rules", "rollout", "2", "--percent", "101", "--data-dir", str(tmp_path)]
    )
    assert refused.exit_code == 2 and "0 to 100" in refused.output
    state = SimpleNamespace()
    assert asyncio.run(swap.follow(state, served.engine, served.rulesets))  # another process's
    assert not asyncio.run(swap.follow(state, served.engine, served.rulesets))  # nothing new
    decision = served.engine.decide({**_sms("c1"), "account": "a1"})
    assert (
        decision.outcome == "deny" and decision.ruleset_version == served.rulesets.version(2).name
    )
    served.engine.close()
    served.rulesets.close()
