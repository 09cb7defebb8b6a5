"""Custom attributes: the extra fields a pack declares (``attributes.yaml``) and events
carry in ``attributes``, checked against that declaration when an event is admitted.

Decoding cannot check them (it happens before the pack is known): msgspec only bounds
the object's shape (catalog.Attributes). ``AttributeBook.check`` does the rest in
Engine.admit, and only for an event that carries attributes or whose type has required
ones, so a pack declaring none pays one ``is None`` test per event. See docs/attributes.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

from shopguard.desensitize.schema import BOOL, NUM, STR
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.events.catalog import EVENT_CLASSES, EVENT_TYPES, BaseEvent, is_id
from shopguard.yamlio import convert_items

TYPES = ("number", "category", "flag", "id", "text")
AttributeType = Literal["number", "category", "flag", "id", "text"]
# What rules and filters see of each type (the rule language's num / str / bool).
FACT_TYPE = {"number": NUM, "flag": BOOL, "category": STR, "id": STR, "text": STR}
# Longest value of a string type when the declaration gives no max_length.
DEFAULT_LENGTH = {"category": 64, "id": 128, "text": 512}
# Types a feature may be keyed by or count distinct values of: one value names one thing.
KEY_TYPES = frozenset({"category", "id"})
# A personal value becomes a pseudonym: only a string can be one. A personal number or
# flag could only be kept raw (refused) or dropped (then why send it): send a bucket as
# a category instead.
PERSONAL_TYPES = frozenset({"category", "id", "text"})
SOURCE = "attributes.yaml"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # as features are named


class AttributeSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One declared attribute as written in attributes.yaml."""

    name: str
    type: AttributeType
    on: frozenset[str] = frozenset()  # the event types that may carry it; empty: every type
    required: bool = False
    personal: bool = False  # pseudonymized at desensitize (a display mask beside it)
    min: float | None = None  # number
    max: float | None = None  # number
    max_length: int | None = None  # category, id, text
    values: frozenset[str] | None = None  # category: the allowed values, when listed
    description: str = ""

    @property
    def fact_type(self) -> str:
        return FACT_TYPE[self.type]

    def carried_by(self, event_type: str) -> bool:
        return not self.on or event_type in self.on

    @property
    def length(self) -> int:
        return self.max_length or DEFAULT_LENGTH.get(self.type, 0)


def load_attributes(
    doc: Any, reserved: Iterable[str] = (), source: str = SOURCE
) -> dict[str, AttributeSpec]:
    """The ``attributes:`` list of a YAML document, checked completely: a ConfigError
    names the file and the attribute. ``reserved``: names already taken (facts,
    features, event fields)."""
    if not doc:
        return {}
    extra = sorted(set(doc) - {"attributes"}) if isinstance(doc, dict) else []
    if extra:  # `trust_level: number` instead of a list item: say so, do not ignore it
        raise ConfigError(f"unknown top-level keys {extra}; declare `attributes:` items", source)
    try:
        specs = convert_items(doc, "attributes", AttributeSpec, "attribute", "name", source)
    except ConfigError as exc:  # "attribute x: defined twice" names no file
        if exc.where.startswith(source):
            raise
        raise ConfigError(str(exc), source) from None
    taken = frozenset(reserved)
    for spec in specs:
        _check(spec, taken, f"{source}: attribute {spec.name}")
    return {spec.name: spec for spec in specs}


def _check(spec: AttributeSpec, taken: frozenset[str], where: str) -> None:
    if not _NAME.fullmatch(spec.name):
        raise ConfigError("name must be lower_snake_case, at most 64 characters", where)
    if spec.name in taken:
        raise ConfigError("the name of a built-in fact, event field or feature", where)
    unknown = sorted(spec.on - EVENT_TYPES)
    if unknown:
        raise ConfigError(f"unknown event types in `on`: {unknown}", where)
    if spec.personal and spec.type not in PERSONAL_TYPES:
        raise ConfigError(
            "a personal attribute is a category, id or text (a number or flag cannot be "
            "pseudonymized: send a bucket as a category)",
            where,
        )
    if spec.type != "number" and (spec.min is not None or spec.max is not None):
        raise ConfigError("min and max bound a number only", where)
    for bound in (spec.min, spec.max):
        if bound is not None and not math.isfinite(bound):
            raise ConfigError("min and max must be finite numbers", where)
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise ConfigError(f"min {spec.min:g} is above max {spec.max:g}", where)
    if spec.max_length is not None:
        if spec.type not in DEFAULT_LENGTH:
            raise ConfigError("max_length bounds a category, id or text only", where)
        if not 1 <= spec.max_length <= DEFAULT_LENGTH[spec.type]:
            limit = DEFAULT_LENGTH[spec.type]
            raise ConfigError(f"max_length must be from 1 to {limit} for a {spec.type}", where)
    if spec.values is not None:
        if spec.type != "category":
            raise ConfigError("values lists a category's allowed values only", where)
        if not spec.values:
            raise ConfigError("values, when given, lists at least one value", where)
        for value in sorted(spec.values):
            if not is_id(value, spec.length):
                raise ConfigError(f"value {value!r} is not a valid category value", where)


def event_field_names() -> frozenset[str]:
    """Every field name of every event type (``items``, ``profile``... included)."""
    return frozenset(f.name for cls in EVENT_CLASSES for f in msgspec.structs.fields(cls))


class AttributeBook:
    """The declared attributes, ready to check events: ``check(event)`` raises
    InvalidEvent naming ``$.attributes.<name>``."""

    def __init__(self, specs: Mapping[str, AttributeSpec]) -> None:
        self.specs = dict(specs)
        required: dict[str, list[str]] = {}
        for event_type in sorted(EVENT_TYPES):
            names = [s.name for s in specs.values() if s.required and s.carried_by(event_type)]
            if names:
                required[event_type] = names
        self.required = required
        # Event classes with a required attribute: checked even when `attributes` is absent.
        self.required_classes = frozenset(
            cls for cls in EVENT_CLASSES if str(cls.__struct_config__.tag) in required
        )

    def needs_check(self, event: BaseEvent) -> bool:
        return event.attributes is not None or type(event) in self.required_classes

    def check(self, event: BaseEvent) -> None:
        event_type = str(type(event).__struct_config__.tag)
        sent = event.attributes or {}
        for name, value in sent.items():
            spec = self.specs.get(name)
            if spec is None and not is_id(name, 64):  # no control character in a path
                raise InvalidEvent(f"undeclared attribute {name[:64]!r}", "$.attributes")
            path = f"$.attributes.{name}"
            if spec is None:
                declared = ", ".join(sorted(self.specs)) or "none"
                raise InvalidEvent(f"undeclared attribute {name!r} (declared: {declared})", path)
            if value is None:  # null: not sent
                continue
            if not spec.carried_by(event_type):
                raise InvalidEvent(f"{name} is not carried by {event_type} events", path)
            problem = _refusal(spec, value)
            if problem is not None:
                raise InvalidEvent(problem, path)
        for name in self.required.get(event_type, ()):
            if sent.get(name) is None:
                path = f"$.attributes.{name}"
                raise InvalidEvent(f"{event_type} events require attribute {name}", path)


def _refusal(spec: AttributeSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value of ``spec``, or None."""
    kind = spec.type
    if kind == "flag":
        if type(value) is bool:
            return None
        return f"expected a flag (true or false), got {_shown(value)}"
    if kind == "number":
        if type(value) not in (int, float):  # bool is an int in Python: not a number here
            return f"expected a number, got {_shown(value)}"
        if not math.isfinite(value):
            return "expected a finite number"
        if spec.min is not None and value < spec.min:
            return f"{value:g} is below the minimum {spec.min:g}"
        if spec.max is not None and value > spec.max:
            return f"{value:g} is above the maximum {spec.max:g}"
        return None
    if type(value) is not str:
        return f"expected a {kind} (a string), got {_shown(value)}"
    if not value or len(value) > spec.length:
        return f"expected a {kind} of 1 to {spec.length} characters"
    if not is_id(value, spec.length):
        return f"expected a {kind} without control characters"
    if spec.values is not None and value not in spec.values:
        if spec.personal:  # the value itself must not reach an error message (logs)
            return "not one of the declared values"
        allowed = ", ".join(sorted(spec.values))
        return f"{value[:64]!r} is not one of the declared values: {allowed}"
    return None


def _shown(value: Any) -> str:
    """A value's type for an error message (never the value: it may be personal)."""
    if type(value) is bool:
        return "a flag"
    return "a number" if isinstance(value, int | float) else "a string"


def fact_types(specs: Mapping[str, AttributeSpec]) -> dict[str, str]:
    """The declared attributes as facts (name -> num / str / bool) for rules and features."""
    return {name: spec.fact_type for name, spec in specs.items()}


def key_names(specs: Mapping[str, AttributeSpec]) -> frozenset[str]:
    """The attributes a feature may be keyed by: categories and ids."""
    return frozenset(name for name, spec in specs.items() if spec.type in KEY_TYPES)
