"""Decode raw JSON (bytes, str or an already-parsed dict) into a typed event, or fail clearly."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from shopguard.errors import InvalidEvent
from shopguard.events.catalog import EVENT_CLASSES, ID_PATTERN, BaseEvent, Event
from shopguard.events.ids import bad_id, might_hold_control

_json = msgspec.json.Decoder(Event)
_json_array = msgspec.json.Decoder(list[Event])
# convert() to one struct is ~30x faster than to the tagged union, so dispatch by hand.
_BY_TAG: dict[object, type[BaseEvent]] = {cls.__struct_config__.tag: cls for cls in EVENT_CLASSES}
# Events outside these years are absurd: a clock bug or a forged timestamp.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
_TYPES = ", ".join(sorted(map(str, _BY_TAG)))
_ID_REFUSAL = f"Expected `str` matching regex {ID_PATTERN!r}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")  # the common case, ten times faster


def json_path(message: str) -> str:
    """The JSON path msgspec names, down to the field itself when a field is unknown or
    missing (msgspec names the object that holds it)."""
    _, sep, tail = message.rpartition(" - at `")
    path = tail.rstrip("`") if sep else "$"
    if message.startswith(("Object contains unknown field `", "Object missing required field `")):
        path += "." + message.split("`", 2)[1]
    return path


def readable(message: str) -> str:
    """msgspec's message, with the id pattern said in words."""
    return message.replace(_ID_REFUSAL, "Expected an id without control characters")


def invalid_input(exc: msgspec.DecodeError) -> InvalidEvent:
    """msgspec's refusal as ours: a ValidationError names a field, any other DecodeError
    is malformed JSON."""
    if isinstance(exc, msgspec.ValidationError):
        message = readable(str(exc))
        return InvalidEvent(message, json_path(message))
    return InvalidEvent(f"malformed JSON: {exc}", "$")


def decode_event(raw: bytes | str | dict[str, Any] | BaseEvent) -> BaseEvent:
    """One event, validated. Raises :class:`InvalidEvent` naming the field path."""
    if isinstance(raw, BaseEvent):
        event = raw
    else:
        try:  # hot path: no closures, one handler
            if isinstance(raw, dict):
                cls = _BY_TAG.get(raw.get("type"))
                if cls is None:
                    raise InvalidEvent(
                        f"unknown event type {raw.get('type')!r}; one of {_TYPES}", "$.type"
                    )
                event = msgspec.convert(raw, cls)
                _check_ids(event)  # a dict from Python: no body to look at first
            else:
                event = _json.decode(raw)
                if might_hold_control(raw):
                    _check_ids(event)
        except msgspec.DecodeError as exc:  # ValidationError included
            raise invalid_input(exc) from None
    if event.time.tzinfo is None:
        raise InvalidEvent("time must carry a timezone (RFC 3339, e.g. ...Z)", "$.time")
    ts = event.time.timestamp()
    if not _EARLIEST <= ts < _LATEST:
        raise InvalidEvent(f"time {event.time.isoformat()} is outside 2000..2100", "$.time")
    if event.ip is not None and not _IPV4.fullmatch(event.ip):
        check_ip(event.ip, "$.ip")
    return event


def _check_ids(event: BaseEvent) -> None:
    path = bad_id(event)
    if path is not None:
        raise InvalidEvent("Expected an id without control characters", path)


def check_ip(text: str, path: str) -> None:
    """An IPv4 or IPv6 address, as :mod:`ipaddress` reads it (surrounding spaces allowed),
    else InvalidEvent naming ``path``."""
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidEvent(f"not an IP address: {text[:64]!r}", path) from None


def parse_instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 date or time given on a command line or in a query
    (``2025-03-01``, ``2025-03-01T12:00:00+08:00``); without a zone it is UTC. Raises
    ValueError."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def decode_events(raws: Iterable[bytes | str | dict[str, Any]]) -> Iterator[BaseEvent]:
    for raw in raws:
        yield decode_event(raw)


def decode_batch(raw: bytes | str) -> list[BaseEvent]:
    """A JSON array of events, each validated; the error path starts with its index."""
    try:
        events: list[BaseEvent] = list(_json_array.decode(raw))
    except msgspec.DecodeError as exc:
        raise invalid_input(exc) from None
    suspect = might_hold_control(raw)
    for i, event in enumerate(events):
        try:
            if suspect:
                _check_ids(event)
            decode_event(event)  # the checks types alone cannot make (time zone, range)
        except InvalidEvent as exc:
            raise InvalidEvent(str(exc), f"$[{i}]" + exc.path[1:]) from None
    return events
