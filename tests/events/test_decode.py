from __future__ import annotations

from typing import Any

import msgspec
import pytest

from shopguard.errors import InvalidEvent
from shopguard.events import EVENT_TYPES, decode_event
from shopguard.events.decode import decode_batch

BASE = {"event_id": "e1", "time": "2025-01-01T00:00:00Z", "tenant": "shop"}
MINIMAL = {
    "account.register": {},
    "account.login": {},
    "sms.send": {"phone": "13812345678"},
    "sms.verify": {"phone": "13812345678", "success": False},
    "promo.claim": {"campaign": "c"},
    "promo.redeem": {"campaign": "c"},
    "lottery.draw": {"campaign": "c"},
    "flashsale.order": {"campaign": "c", "sku": "s"},
    "order.create": {"order_id": "o", "amount": 1},
    "payment": {"amount": 1},
    "refund": {"order_id": "o", "amount": 1},
    "cabinet.unlock": {"cabinet": "c"},
    "cabinet.session": {"cabinet": "c", "session_id": "s"},
    "product.verify": {"product_code": "p"},
    "review.post": {"sku": "s", "rating": 5},
    "http.request": {"path": "/"},
    "case.label": {"verdict": "fraud"},
}


def test_catalog_has_every_event_type() -> None:
    assert set(MINIMAL) == EVENT_TYPES


@pytest.mark.parametrize("event_type", sorted(MINIMAL))
def test_each_type_decodes_from_json_and_dict(event_type: str) -> None:
    doc = {"type": event_type, **BASE, **MINIMAL[event_type]}
    from_json = decode_event(msgspec.json.encode(doc))
    from_dict = decode_event(doc)
    assert from_json == from_dict
    assert type(from_json).__struct_config__.tag == event_type


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        ({"type": "payment", **BASE, "amount": "ten"}, "$.amount", "Expected `float"),
        ({"type": "payment", **BASE}, "$.amount", "missing required field `amount`"),
        ({"type": "payment", **BASE, "amount": 1, "colour": "red"}, "$.colour", "unknown field"),
        ({"type": "payment", **BASE, "amount": -5}, "$.amount", ">= 0"),
        ({"type": "payment", **BASE, "amount": 1e12}, "$.amount", "<= 100000000"),
        ({"type": "teleport", **BASE}, "$.type", "teleport"),
        ({"type": "payment", **BASE, "amount": 1, "device": {"id": 7}}, "$.device.id", "str"),
        (
            {
                "type": "cabinet.session",
                **BASE,
                "cabinet": "c",
                "session_id": "s",
                "billed": [{"sku": "a", "quantity": 0}],
            },
            "$.billed[0].quantity",
            ">= 1",
        ),
        (
            {"type": "payment", **{**BASE, "time": "1970-01-02T00:00:00Z"}, "amount": 1},
            "$.time",
            "outside",
        ),
        (
            {"type": "payment", **{**BASE, "time": "2025-01-01T00:00:00"}, "amount": 1},
            "$.time",
            "timezone",
        ),
        ({"type": "payment", **{**BASE, "event_id": ""}, "amount": 1}, "$.event_id", "length"),
    ],
)
def test_bad_input_names_the_field(doc: dict[str, object], path: str, words: str) -> None:
    for raw in (doc, msgspec.json.encode(doc)):
        with pytest.raises(InvalidEvent) as caught:
            decode_event(raw)  # type: ignore[arg-type]
        assert caught.value.path == path, str(caught.value)
        assert words in str(caught.value)


def test_malformed_json_is_one_clear_error() -> None:
    with pytest.raises(InvalidEvent, match="malformed JSON"):
        decode_event(b"{not json")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"sms.send","event_id":"e\\u0000","tenant":"t","time":"2025-01-01T00:00:00Z"}',
        b'{"type":"sms.send","event_id":"e\x7f","tenant":"t","time":"2025-01-01T00:00:00Z"}',
        '{"type":"sms.send","event_id":"e\u202e","tenant":"t","time":"2025-01-01T00:00:00Z"}'.encode(),
        '{"type":"sms.send","event_id":"e\x85","tenant":"t","time":"2025-01-01T00:00:00Z"}'.encode(),
        {"type": "sms.send", "event_id": "e\n", "tenant": "t", "time": "2025-01-01T00:00:00Z"},
    ],
)
def test_an_id_with_a_control_character_is_refused_however_it_comes(raw: Any) -> None:
    with pytest.raises(InvalidEvent, match="without control characters") as refused:
        decode_event(raw)
    assert refused.value.path == "$.event_id"


def test_control_characters_are_found_in_nested_ids_and_batches() -> None:
    base = {"type": "order.create", "tenant": "t", "time": "2025-01-01T00:00:00Z"}
    items = [{"sku": "ok"}, {"sku": "bad\u0000"}]
    order = {**base, "event_id": "o1", "order_id": "o1", "amount": 1.0, "items": items}
    with pytest.raises(InvalidEvent) as nested:
        decode_event(msgspec.json.encode(order))
    assert nested.value.path == "$.items[1].sku"
    fine = {**base, "type": "sms.send", "event_id": "s1", "address": "北京市“朝阳”区\n2号"}
    with pytest.raises(InvalidEvent) as batch:
        decode_batch(msgspec.json.encode([fine, {**fine, "device": {"id": "d\u001b"}}]))
    assert batch.value.path == "$[1].device.id"
    assert decode_event(msgspec.json.encode(fine)).address == "北京市“朝阳”区\n2号"  # free text
