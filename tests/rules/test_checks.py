"""Rulesets that passed validation and then broke reads (issue 13, hole 8), replayed: each
is refused at validation naming the rule, over the API, the console and the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from shopguard.cli import app as cli
from shopguard.errors import ConfigError
from shopguard.rules.language import MAX_DEPTH, compile_expression
from shopguard.rules.ruleset import MAX_RULES
from shopguard.rules.versions import running
from tests.api.conftest import Api
from tests.conftest import event, make_engine
from tests.rules.test_versions import DENY_SMS

BIG_BODY = 4_000_000


def _rules(n: int, when: str = "hour >= 0") -> str:
    return "rules:\n" + "".join(
        f"  - {{id: r{i}, on: [sms.send], when: '{when}', action: review, reason: r{i}}}\n"
        for i in range(n)
    )


@pytest.fixture
def big(tmp_path: Path) -> tuple[Api, TestClient]:
    """A served app taking bodies large enough to carry each exploit whole."""
    served = Api(tmp_path, max_body_bytes=BIG_BODY)
    return served, TestClient(served.app, raise_server_exceptions=False)


@pytest.mark.parametrize("score", [".nan", ".inf", "-.inf", "1.0e+400", "10000001"])
def test_a_score_that_is_not_a_finite_number_is_refused(score: str) -> None:
    text = DENY_SMS.replace("action: deny", f"action: deny\n    score: {score}")
    with pytest.raises(ConfigError, match="rule deny_every_sms: score must be a number"):
        make_engine().pack.compile_rules(text, "r1")


def test_a_nan_score_is_refused_over_http(big: tuple[Api, TestClient]) -> None:
    served, client = big
    admin = served.auth(served.shop_admin)
    text = DENY_SMS.replace("action: deny", "action: deny\n    score: .nan")
    for path in ("/v1/rulesets", "/v1/rulesets:validate"):
        refused = client.post(path, json={"text": text}, headers=admin)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "$.text"
        assert "rule deny_every_sms: score" in refused.json()["detail"]
    assert served.rulesets.versions() == []  # nothing stored


def test_rules_check_refuses_an_infinite_score(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: r1, on: [payment], when: 'amount > 1', action: deny, reason: x,"
        " score: .inf}\n"
    )
    result = CliRunner().invoke(cli, ["rules", "check", "--pack", str(tmp_path)])
    assert result.exit_code == 2
    assert "rule r1: score must be a number" in result.stderr


@pytest.mark.parametrize(
    "template",
    [
        "{amount:>10000000}",
        "{amount:{amount}}",
        "{amount:0>999}",
        "{amount:.100f}",
        "{amount!z}",
        "{amount",
        "x" * 501,
    ],
)
def test_a_reason_that_could_render_huge_is_refused(template: str) -> None:
    text = DENY_SMS.replace("every SMS denied (test)", f"'{template}'")
    with pytest.raises(ConfigError, match="rule deny_every_sms: reason"):
        make_engine().pack.compile_rules(text, "r1")


def test_simple_reason_formats_still_render() -> None:
    engine = make_engine()
    text = DENY_SMS.replace("on: [sms.send]", "on: [payment]").replace(
        "every SMS denied (test)", "'{amount:.2f} paid, {amount:>8,.1f}, {path}'"
    )
    engine.use_rules(engine.pack.compile_rules(text, "r1"))
    paid = engine.decide(event("payment", "p1", amount=1234.5, account="a1", order_id="o1"))
    assert paid.reasons[0].reason == "1234.50 paid,  1,234.5, n/a"


def test_a_rendered_reason_is_cut_to_a_bound() -> None:
    engine = make_engine()
    text = DENY_SMS.replace("on: [sms.send]", "on: [http.request]").replace(
        "every SMS denied (test)", "'{path}{path}{path}{path}{path}'"
    )
    engine.use_rules(engine.pack.compile_rules(text, "r1"))
    long = engine.decide(event("http.request", "h1", path="/" + "a" * 2000, ip="192.0.2.1"))
    assert len(long.reasons[0].reason) == 1000 and long.reasons[0].reason.endswith("…")


@pytest.mark.parametrize("text", ["rules: []\n", "", "rules:\n", "version: 3\n"])
def test_an_empty_ruleset_is_refused(text: str, big: tuple[Api, TestClient]) -> None:
    served, client = big
    with pytest.raises(ConfigError, match="at least one rule"):
        served.engine.pack.compile_rules(text, "r1")
    refused = client.post(
        "/v1/rulesets", json={"text": text}, headers=served.auth(served.shop_admin)
    )
    assert refused.status_code == 422 and "at least one rule" in refused.json()["detail"]


def test_100k_nested_nots_are_a_4xx_not_a_500(big: tuple[Api, TestClient]) -> None:
    served, client = big
    deep = "not " * 100_000 + "hour >= 0"
    text = f"rules:\n  - {{id: deep, on: [sms.send], when: '{deep}', action: deny, reason: x}}\n"
    admin = served.auth(served.shop_admin)
    refused = client.post("/v1/rulesets:validate", json={"text": text}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("rule deep: expression")


@pytest.mark.parametrize(
    "when",
    [
        "not " * 100_000 + "hour >= 0",  # refused by length, before it is parsed
        "not " * 999 + "hour >= 0",  # parsed, then refused by depth
        "-" * 3000 + "hour >= 0",
        "(" * 300 + "hour >= 0" + ")" * 300,
        "not " * (MAX_DEPTH + 1) + "hour >= 0",
        "hour >= 0 and " * 2000 + "hour >= 0",  # too long
        "hour >= 0\x00",
    ],
)
def test_expressions_are_bounded_before_anything_recurses(when: str) -> None:
    schema = make_engine().pack.schema
    with pytest.raises(ConfigError, match=r"rule x: (expression|syntax)"):
        compile_expression(when, schema, "rule x")


def test_nesting_within_the_bound_compiles() -> None:
    schema = make_engine().pack.schema
    deep = "not " * (MAX_DEPTH - 6) + "hour >= 0"
    assert compile_expression(deep, schema, "rule x").fn({"hour": 3}) is True


def test_5000_rules_are_refused(big: tuple[Api, TestClient]) -> None:
    served, client = big
    admin = served.auth(served.shop_admin)
    refused = client.post("/v1/rulesets:validate", json={"text": _rules(5000)}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert f"at most {MAX_RULES:,}" in refused.json()["detail"]


def test_rules_compile_off_the_event_loop(tmp_path: Path) -> None:
    """While the largest ruleset allowed compiles, /healthz keeps answering: compiling on
    the loop would freeze it until the compile is done (0.9 s for 5,000 rules)."""
    served = Api(tmp_path, max_body_bytes=BIG_BODY)
    admin = served.auth(served.shop_admin)
    text = _rules(MAX_RULES - len(served.engine.pack.baits or []))

    async def race() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=served.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sg") as client:
            check = asyncio.create_task(
                client.post("/v1/rulesets:validate", json={"text": text}, headers=admin)
            )
            answered = 0
            while not check.done():
                await asyncio.sleep(0)  # an ASGI call in process may never suspend by itself
                assert (await client.get("/healthz")).status_code == 200
                answered += 1
            return (await check).status_code, answered

    status, answered = asyncio.run(race())
    assert status == 200
    assert answered >= 20, answered  # 1 when compiled on the loop, ~170 off it


def test_a_stored_version_that_fails_the_checks_is_never_run(big: tuple[Api, TestClient]) -> None:
    """A NaN-score version stored before the checks existed: publishing it is refused
    with nothing recorded, and one already published is passed over at start."""
    served, client = big
    admin = served.auth(served.shop_admin)
    nan = DENY_SMS.replace("action: deny", "action: deny\n    score: .nan")
    stale = served.rulesets.upload(nan, "before-the-checks")  # the store itself checks nothing
    refused = client.post(f"/v1/rulesets/{stale.number}:publish", headers=admin)
    assert refused.status_code == 422 and "rule deny_every_sms: score" in refused.json()["detail"]
    assert [c.action for c in served.rulesets.changes()] == ["upload"]
    served.rulesets.change("publish", "before-the-checks", stale.number)
    champion, challenger, _ = running(served.engine.pack, served.rulesets)
    assert champion is served.engine.pack.rules and challenger is None
