from __future__ import annotations

import msgspec
import pytest

from shopguard.errors import InvalidEvent
from shopguard.events import EVENT_TYPES, decode_event

BASE = {"event_id": "e1", "time": "2025-01-01T00:00:00Z", "tenant": "shop"}
MINIMAL = {
    "account.register": {},
    "account.login": {},
    "sms.send": {"phone": "13812345678"},
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
