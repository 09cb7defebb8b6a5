"""Custom attributes at the edge: an event's ``attributes`` are checked against the pack's
declaration when the engine admits it (decoding comes before the pack is known), each
refusal naming ``$.attributes.<name>``, in Python and through the HTTP API as a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from shopguard import Engine
from shopguard.api import KeyStore, create_app
from shopguard.config import load_pack
from shopguard.errors import InvalidEvent
from tests.conftest import event, make_engine

PACK = Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout"


def _payment(event_id: str = "p1", **attributes: Any) -> dict[str, Any]:
    return event(
        "payment", event_id, account="u1", terminal="lane-1", amount=20.0, attributes=attributes
    )


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = make_engine(pack=load_pack(PACK))
    yield e
    e.close()


REFUSED = [
    ({"trustLevel": 2}, "$.attributes.trustLevel", "undeclared attribute 'trustLevel'"),
    ({"basket": 2}, "$.attributes.basket", "declared: attendant_note, audited"),
    ({"trust_level": "2"}, "$.attributes.trust_level", "expected a number, got a string"),
    ({"trust_level": True}, "$.attributes.trust_level", "expected a number, got a flag"),
    ({"trust_level": 6}, "$.attributes.trust_level", "6 is above the maximum 5"),
    ({"trust_level": -0.5}, "$.attributes.trust_level", "-0.5 is below the minimum 0"),
    ({"audited": 1}, "$.attributes.audited", "expected a flag (true or false), got a number"),
    ({"lane_type": "express"}, "$.attributes.lane_type", "not one of the declared values"),
    ({"loyalty_id": 12345}, "$.attributes.loyalty_id", "expected a id (a string)"),
    ({"loyalty_id": "L\n1"}, "$.attributes.loyalty_id", "without control characters"),
    ({"loyalty_id": ""}, "$.attributes.loyalty_id", "of 1 to 128 characters"),
    ({"attendant_note": "x" * 201}, "$.attributes.attendant_note", "of 1 to 200 characters"),
]


@pytest.mark.parametrize(("attributes", "path", "message"), REFUSED)
def test_a_bad_attribute_is_refused_naming_its_path(
    engine: Engine, attributes: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        engine.decide(_payment(**attributes))
    assert refused.value.path == path
    assert message in str(refused.value)


def test_an_attribute_on_an_event_type_that_does_not_carry_it_is_refused(engine: Engine) -> None:
    login = event("account.login", "l1", account="u1", attributes={"trust_level": 3})
    with pytest.raises(InvalidEvent, match=r"not carried by account\.login") as refused:
        engine.decide(login)
    assert refused.value.path == "$.attributes.trust_level"
    # an attribute declared without `on` rides on every type
    engine.decide(event("account.login", "l2", account="u1", attributes={"loyalty_id": "L-1"}))


def test_a_refused_personal_value_is_not_repeated_in_the_message(engine: Engine) -> None:
    with pytest.raises(InvalidEvent) as refused:
        engine.decide(_payment(attendant_note="Jane Doe, " + "x" * 300))
    assert "Jane" not in str(refused.value)


def test_a_required_attribute_missing_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(f"name: strict\nextends: {PACK}\n")
    (tmp_path / "attributes.yaml").write_text(
        "attributes:\n  - {name: lane_id, type: id, required: true, on: [payment]}\n"
    )
    strict = make_engine(pack=load_pack(tmp_path))
    for sent in (None, {"trust_level": 3}, {"lane_id": None}):
        payment = event("payment", "r1", account="u1", amount=5.0)
        if sent is not None:
            payment["attributes"] = sent
        with pytest.raises(InvalidEvent, match="payment events require attribute lane_id") as no:
            strict.decide(payment)
        assert no.value.path == "$.attributes.lane_id"
    strict.decide(event("payment", "r2", account="u1", amount=5.0, attributes={"lane_id": "l7"}))
    strict.decide(event("account.login", "r3", account="u1"))  # not required there


def test_a_pack_without_attributes_refuses_any(tmp_path: Path) -> None:
    plain = make_engine()
    with pytest.raises(
        InvalidEvent, match=r"undeclared attribute 'trust_level' \(declared: none"
    ) as no:
        plain.decide(_payment(trust_level=1))
    assert no.value.path == "$.attributes.trust_level"
    plain.decide(event("payment", "p2", account="u1", amount=5.0))


def test_a_batch_names_the_event_and_the_attribute(engine: Engine) -> None:
    with pytest.raises(InvalidEvent) as refused:
        engine.decide_many([_payment("b1", trust_level=1), _payment("b2", trust_level=9)])
    assert refused.value.path == "$[1].attributes.trust_level"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    served = make_engine(pack=load_pack(PACK), decision_log="sqlite", data_dir=str(tmp_path))
    keys = KeyStore(tmp_path / "access.db")
    auth = {"Authorization": f"Bearer {keys.create('shop', ['decide'])[1]}"}
    with TestClient(create_app(served, keys), raise_server_exceptions=False) as http:
        yield http, auth


def _wire(payment: dict[str, Any]) -> dict[str, Any]:
    return {**payment, "time": payment["time"].isoformat()}


def test_the_api_refuses_a_bad_attribute_as_a_422_naming_it(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = client
    for attributes, path, _ in REFUSED:
        answer = http.post("/v1/decisions", json=_wire(_payment("a1", **attributes)), headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == path
    batch = [_wire(_payment("a2", trust_level=1)), _wire(_payment("a3", lane_type="x"))]
    answer = http.post("/v1/decisions:batch", json=batch, headers=auth)
    assert answer.status_code == 422 and answer.json()["field"] == "$[1].attributes.lane_type"
    good = _payment("a4", trust_level=1, voided_items=2, loyalty_id="LOY-1", audited=True)
    answer = http.post("/v1/decisions", json=_wire(good), headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "allow"


def test_a_null_attribute_is_one_not_sent(engine: Engine) -> None:
    decision = engine.decide(_payment("n1", trust_level=None, loyalty_id=None))
    assert decision.outcome == "allow"


def test_an_undeclared_name_with_a_control_character_names_the_object(engine: Engine) -> None:
    with pytest.raises(InvalidEvent, match="undeclared attribute 'a\\\\nb'") as refused:
        engine.decide(_payment(**{"a\nb": 1}))
    assert refused.value.path == "$.attributes"
