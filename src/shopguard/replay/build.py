"""A row to events: every column resolved to its index once, then per row only casts.

A cell that will not cast (a bad number, a time in another format, an unmapped label)
is a :class:`RowError` naming the row and the column; the caller adds the file.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from msgspec import UNSET

from shopguard.errors import ConfigError
from shopguard.features.spec import parse_duration
from shopguard.replay.mapping import EventTemplate, FieldSpec, LabelSpec, TimeSpec, cast_for, zone

Row = list[str]
ROW = "_row"  # the row's number, usable in event_id and templates: "{_row}"


class RowError(ConfigError):
    """A cell the mapping could not read: ``row`` and ``column`` name it."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(f"row {row}, column {column!r}: {message}")
        self.row, self.column = row, column


def _ipv4_from_number(text: str) -> str:
    n = int(float(text))
    if not 0 <= n < 2**32:
        raise ValueError(f"{text!r} is not an IPv4 address as a number (0 .. 2^32-1)")
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a flag (yes/no, y/n, true/false, 1/0)")


def _int(text: str) -> int:
    number = float(text)
    if not number.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(number)


def _number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


CASTS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "float": float,
    "int": _int,
    "number": _number,
    "bool": _bool,
    "ipv4_from_number": _ipv4_from_number,
}
_EPOCH = {"epoch_s": 1.0, "epoch_ms": 1e3, "epoch_us": 1e6}


def time_parser(fmt: str, local: tzinfo = UTC) -> Callable[[str], datetime]:
    """Text to an aware datetime; a time written without a zone is in ``local``."""
    if fmt == "iso":

        def parse_iso(text: str) -> datetime:
            value = datetime.fromisoformat(text)
            return value if value.tzinfo else value.replace(tzinfo=local)

        return parse_iso
    if fmt in _EPOCH:
        scale = _EPOCH[fmt]
        return lambda text: datetime.fromtimestamp(float(text) / scale, UTC)

    def parse(text: str) -> datetime:
        value = datetime.strptime(text, fmt)
        return value if value.tzinfo else value.replace(tzinfo=local)

    return parse


def column(header: list[str], name: str, where: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        near = [c for c in header if c.lower() == name.lower()]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise ConfigError(
            f"{where}: no column {name!r} in the header{hint}; it has {shown}"
        ) from None


def _formatter(template: str, header: list[str], where: str) -> tuple[str, list[int]]:
    """A format string over row cells as positional ``{0}-{1}`` and the cells' indexes
    (-1: the row number)."""
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    if any(n == "" for n in names):
        raise ConfigError(f"{where}: {template!r}: name a column in each {{}}")
    unique = list(dict.fromkeys(names))
    at = [-1 if n == ROW else column(header, n, where) for n in unique]
    positional = template
    for k, name in enumerate(unique):
        positional = positional.replace("{" + name + "}", "{" + str(k) + "}")
    return positional, at


def cells(row: Row, at: list[int], number: int) -> list[str]:
    return [str(number) if i < 0 else row[i] for i in at]


Step = tuple[tuple[str, ...], int, Callable[[str], Any], str]


def _value_map(spec: FieldSpec, cast: Callable[[str], Any]) -> Callable[[str], Any]:
    table = {str(k): v for k, v in (spec.map or {}).items()}

    def mapped(text: str) -> Any:
        if text not in table:
            raise ValueError(f"{text!r} is not in the field's map ({', '.join(table)})")
        value = table[text]
        return cast(value) if isinstance(value, str) else value

    return mapped


def builder(
    template: EventTemplate, tenant: str, header: list[str], missing: set[str]
) -> Callable[[Row, int], dict[str, Any]]:
    """A (row, number) -> event function."""
    kind = template.type
    time = template.time_spec()
    time_of = _time_of(time, header, kind)
    id_format, id_at = _formatter(template.event_id, header, f"{kind} event_id")
    steps: list[Step] = []  # (path, column index, cast, column name)
    templated: list[tuple[tuple[str, ...], str, list[int]]] = []
    consts: dict[str, Any] = {}
    for path, raw in template.fields.items():
        spec = FieldSpec(column=raw) if isinstance(raw, str) else raw
        cast = CASTS[cast_for(kind, path, spec.type)]
        if spec.map is not None:
            cast = _value_map(spec, cast)
        keys = tuple(path.split("."))
        if spec.const is not UNSET:
            _put(consts, keys, spec.const)
        elif spec.template is not None:
            fmt, at = _formatter(spec.template, header, f"{kind} field {path}")
            templated.append((keys, fmt, at))
        else:
            assert spec.column is not None
            steps.append(
                (keys, column(header, spec.column, f"{kind} field {path}"), cast, spec.column)
            )

    flat = [(keys[0], at, cast, name) for keys, at, cast, name in steps if len(keys) == 1]
    nested = [step for step in steps if len(step[0]) > 1]
    id_by_row = -1 in id_at

    def build(row: Row, number: int) -> dict[str, Any]:
        # The hot loop of a replay (~10 us a row): flat fields apart from nested ones,
        # and the column being read found from the loop's variables only on an error.
        event: dict[str, Any] = {
            "type": kind,
            "tenant": tenant,
            "event_id": id_format.format(
                *(cells(row, id_at, number) if id_by_row else [row[i] for i in id_at])
            ),
            "time": time_of(row, number),
        }
        for keys, fmt, at in templated:
            parts = cells(row, at, number)
            if not any(part in missing for part in parts):  # half an id is no id: absent
                _put(event, keys, fmt.format(*parts))
        path, name = "", ""
        try:  # on an error, the loop's variables name the field and column being read
            for path, at_, cast, name in flat:  # noqa: B007
                text = row[at_]
                if text not in missing:  # an empty cell: the field is absent
                    event[path] = cast(text)
            for keys, at_, cast, name in nested:  # noqa: B007
                path = ".".join(keys)
                text = row[at_]
                if text not in missing:
                    _put(event, keys, cast(text))
        except (ValueError, TypeError, OverflowError) as exc:
            raise RowError(number, name, f"{path}: {exc}") from None
        for key, value in consts.items():
            if isinstance(value, dict):
                _merge(event, key, value)
            else:
                event.setdefault(key, value)
        return event

    return build


def _put(target: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for part in keys[:-1]:
        target = target.setdefault(part, {})
    target[keys[-1]] = value


def _merge(event: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    inner = event.setdefault(key, {})
    for k, v in value.items():
        inner.setdefault(k, v)


def _time_of(time: TimeSpec, header: list[str], kind: str) -> Callable[[Row, int], datetime]:
    if time.none:
        assert time.start is not None
        start = time_parser("iso", zone(time.zone))(time.start)
        step = timedelta(seconds=parse_duration(time.step))
        return lambda row, number: start + step * (number - 1)
    assert time.column is not None
    at, name, parse = (
        column(header, time.column, f"{kind} time"),
        time.column,
        time_parser(time.format, zone(time.zone)),
    )

    def time_of(row: Row, number: int) -> datetime:
        text = row[at]
        try:
            return parse(text)
        except (ValueError, OverflowError, OSError) as exc:
            why = "" if str(exc).startswith("time data") else f" ({exc})"  # strptime's repeats
            raise RowError(number, name, f"time {text!r} is not {time.format!r}{why}") from None

    return time_of


def labeller(
    specs: dict[str, LabelSpec], header: list[str], missing: Collection[str] = ("",)
) -> Callable[[Row, int], dict[str, str]]:
    """A (row, number) -> labels function; a label map refuses a value it does not list,
    except a cell that means absent (``file.missing``): that row carries no such label, as an
    empty cell of an unmapped label column does (real exports leave rows unlabelled)."""
    plain = [
        (name, column(header, s.column, f"label {name}"))
        for name, s in specs.items()
        if s.map is None
    ]
    mapped = [
        (
            name,
            column(header, s.column, f"label {name}"),
            s.column,
            {str(k): str(v) for k, v in s.map.items()},
        )
        for name, s in specs.items()
        if s.map is not None
    ]

    def labels(row: Row, number: int) -> dict[str, str]:
        tags = {name: row[at] for name, at in plain}
        for name, at, col, table in mapped:
            value = table.get(row[at])
            if value is None and row[at] in missing:
                continue
            if value is None:
                raise RowError(
                    number, col, f"label {name}: {row[at]!r} is not in its map ({', '.join(table)})"
                )
            tags[name] = value
        return tags

    return labels
