from __future__ import annotations

import time

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError
from shopguard.rules import compile_expression
from tests.conftest import event, make_engine

SCHEMA = {"amount": "num", "n": "num", "path": "str", "flag": "bool", "country": "str"}


def check(text: str) -> object:
    return compile_expression(text, SCHEMA, "rule t", frozenset({"device"}))


@pytest.mark.parametrize(
    ("text", "values", "want"),
    [
        ("amount > 10 and flag", {"amount": 11, "flag": True}, True),
        ("amount > 10", {}, False),  # missing compares false
        ("not (amount > 10)", {}, True),
        ("country in ['CN', 'HK']", {"country": "HK"}, True),
        ("country not in ['CN']", {"country": None}, False),
        ("amount > 5 * n", {"amount": 11, "n": 2}, True),
        ("1 < amount <= 3", {"amount": 3}, True),
        ("regex(path, '^/api/v[0-9]+/')", {"path": "/api/v2/x"}, True),
        ("startswith(path, '/static')", {"path": "/static/a.js"}, True),
        ("coalesce(n, 0) == 0", {}, True),
        ("max(amount, n) >= 9", {"amount": 1, "n": 9}, True),
        ("listed('watch', 'device')", {"_listed": {("watch", "device")}}, True),
    ],
)
def test_language_evaluates(text: str, values: dict[str, object], want: bool) -> None:
    assert bool(check(text).fn(values)) is want  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'a' * 100000000 == path", "arithmetic only on numbers"),
        ("path + 'x' == 'y'", "arithmetic only on numbers"),
        ("amount ** 99999 > 1", "not allowed"),
        ("amount.real > 1", "Attribute is not allowed"),
        ("path[0] == 'a'", "Subscript is not allowed"),
        ("__import__('os')", "unknown function"),
        ("[x for x in path]", "not allowed"),
        ("(lambda: 1)() == 1", "only registered functions"),
        ("amonut > 5", "unknown name 'amonut'; did you mean 'amount'"),
        ("amount > 'x'", "cannot compare num with str"),
        ("path > 'x'", "ordering comparisons need numbers"),
        ("amount", "must be bool"),
        ("regex(path, n)", "string literal"),
        ("regex(path, '(a')", "bad regular expression"),
        ("listed('grey', 'device')", "unknown list"),
        ("amount > 10**20", "not allowed"),
        ("amount > 100000000000000000000", "out of range"),
        ("amount in [1, 'a']", "membership"),
    ],
)
def test_checker_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="rule t: ") as caught:
        check(text)
    assert message in str(caught.value)


def test_regex_is_linear_time() -> None:
    compiled = check("regex(path, '(a+)+$')")
    started = time.perf_counter()
    assert not compiled.fn({"path": "a" * 5_000 + "!"})  # type: ignore[attr-defined]
    assert time.perf_counter() - started < 1.0  # a backtracking engine takes ages here


def _pack(rules: str) -> dict[str, str]:
    return {
        "rules.yaml": "rules:\n" + rules,
        "features.yaml": "features:\n  - {name: device_accounts_1h, kind: distinct, "
        "key: [device], of: account, on: [account.register], window: 1h}\n",
    }


def test_unknown_name_fails_at_load_naming_the_rule() -> None:
    rules = (
        "  - {id: farm, on: [account.register], when: 'device_acounts_1h > 2',"
        " action: deny, reason: r}\n"
    )
    with pytest.raises(ConfigError, match="rule farm: unknown name 'device_acounts_1h'"):
        load_pack("inline", _pack(rules))


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("action: block", "unknown action"),
        ("action: 'challenge:retina'", "unknown challenge"),
        ("action: deny, reason: '{nope}'", "reason names unknown value"),
        ("action: deny, list: {add: deny, entity: wallet}", "unknown entity"),
    ],
)
def test_bad_rule_fields_fail_at_load(field: str, message: str) -> None:
    body = f"  - {{id: r1, on: [payment], when: 'amount > 1', reason: x, {field}}}\n"
    body = body.replace("reason: x, action: deny, reason:", "action: deny, reason:")
    with pytest.raises(ConfigError, match=message):
        load_pack("inline", _pack(body))


def test_rule_that_raises_is_traced_and_skipped(tmp_path: object) -> None:
    rules = (
        "  - {id: divide, on: [payment], when: 'amount / (amount - amount) > 1',"
        " action: deny, reason: r}\n"
        "  - {id: big, on: [payment], when: 'amount > 100', action: review, reason: big}\n"
    )
    engine = make_engine(pack=str(_write(tmp_path, _pack(rules))))
    decision = engine.decide(event("payment", "p1", amount=500))
    assert decision.outcome == "review"
    assert [r.code for r in decision.reasons] == ["BIG"]
    assert decision.trace == ["rule divide: ZeroDivisionError: float division by zero"]


def test_rules_are_indexed_by_event_type() -> None:
    rules = load_pack("starter").rules
    assert all("account.login" in r.on for r in rules.by_type["account.login"])
    assert rules.by_type["refund"] == ()


def _write(tmp: object, texts: dict[str, str]) -> object:
    from pathlib import Path

    root = Path(str(tmp))
    for name, text in texts.items():
        (root / name).write_text(text)
    return root


def test_bait_without_a_decoy_fails_at_load() -> None:
    texts = {"rules.yaml": "rules: []\n", "bait.yaml": "bait:\n  - {id: empty}\n"}
    with pytest.raises(ConfigError, match="bait empty: declares no coupon"):
        load_pack("inline", texts)
