"""Ids hold no control characters: checked after decoding, and only for a body that could
hold one. JSON must escape U+0000-U+001F, so such a body has a backslash; DEL comes raw,
C1 controls start with byte C2, line separators and bidi overrides with E2. A body with
none of these (most are) holds no bad id, and skips the walk."""

from __future__ import annotations

import types
import typing
from typing import Any, Union

import msgspec

from shopguard.events.catalog import Id, is_id

_Fields = tuple[tuple[str, str], ...]  # (field, how: id | ids | struct | structs)
_FIELDS: dict[type, _Fields] = {}


def might_hold_control(raw: bytes | str) -> bool:
    if isinstance(raw, str):
        return "\\" in raw or "\x7f" in raw or not raw.isascii()
    if b"\\" in raw or b"\x7f" in raw:
        return True
    return not raw.isascii() and (b"\xc2" in raw or b"\xe2" in raw)


def bad_id(value: msgspec.Struct, path: str = "$") -> str | None:
    """The JSON path of the first id in ``value`` (an event) that holds a control
    character, or None."""
    for name, how in _fields(type(value)):
        field = getattr(value, name)
        if field is None:
            continue
        at = f"{path}.{name}"
        if how == "id" and not is_id(field):
            return at
        if how == "ids":
            for i, item in enumerate(field):
                if not is_id(item):
                    return f"{at}[{i}]"
        if how == "struct":
            found = bad_id(field, at)
            if found:
                return found
        if how == "structs":
            for i, item in enumerate(field):
                found = bad_id(item, f"{at}[{i}]")
                if found:
                    return found
    return None


def _fields(cls: type) -> _Fields:
    known = _FIELDS.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        found = ((name, _how(hints[name])) for name in getattr(cls, "__struct_fields__", ()))
        known = _FIELDS[cls] = tuple((name, how) for name, how in found if how)
    return known


def _how(tp: Any) -> str:
    if typing.get_origin(tp) in (Union, types.UnionType):  # X | None
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if tp == Id:
        return "id"
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) is list:
        item = typing.get_args(tp)[0]
        if item == Id:
            return "ids"
        return "structs" if _is_struct(item) and _fields(item) else ""
    return "struct" if _is_struct(tp) and _fields(tp) else ""


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)
