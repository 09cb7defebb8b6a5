"""Read events from JSONL, or from CSV rows turned into events by a mapping file.

A mapping (YAML) names, per event a row produces, the event type, how to build its
event_id and time, and which column fills which field (dotted paths build nested
objects: ``device.id``). ``labels`` columns ride along with each event for evaluation
and are never shown to the engine. See ``shopguard/replay/mappings/*.yaml``.
"""

from __future__ import annotations

import csv
import gzip
import io
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

import msgspec

from shopguard.errors import ConfigError
from shopguard.yamlio import load_yaml

Labelled = tuple[dict[str, Any] | bytes, dict[str, str]]


class _Labelled(msgspec.Struct):
    event: msgspec.Raw
    truth: dict[str, Any] = {}


_labelled = msgspec.json.Decoder(_Labelled)


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True):
    column: str | None = None
    type: str = "str"  # str | float | int | bool | ipv4_from_number
    const: Any = None


class EventTemplate(msgspec.Struct, forbid_unknown_fields=True):
    type: str
    event_id: str  # a format string over the row: "pay-{TRANSACTION_ID}"
    time: str  # the column holding the event time
    time_format: str = "iso"  # "iso" or a strptime format
    fields: dict[str, str | FieldSpec] = {}


class Mapping(msgspec.Struct, forbid_unknown_fields=True):
    tenant: str
    events: list[EventTemplate]
    labels: list[str] = []
    sort_by_time: bool = False
    description: str = ""


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``fdh``, ``ecommerce-fraud``) or a YAML file's path."""
    path = Path(name_or_path)
    if path.is_file():
        text = path.read_text()
    else:
        shipped = resources.files("shopguard").joinpath(f"replay/mappings/{name_or_path}.yaml")
        if not shipped.is_file():
            raise ConfigError(f"no mapping {name_or_path!r}: not a file nor a shipped mapping")
        text = shipped.read_text()
    try:
        return msgspec.convert(load_yaml(text), Mapping)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"mapping {name_or_path}: {exc}") from None


def _ipv4_from_number(text: str) -> str:
    n = int(float(text))
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


_CASTS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "float": float,
    "int": lambda s: int(float(s)),
    "bool": lambda s: s.strip().lower() in ("1", "true", "yes", "y"),
    "ipv4_from_number": _ipv4_from_number,
}


def _time_parser(fmt: str) -> Callable[[str], datetime]:
    if fmt == "iso":

        def parse_iso(text: str) -> datetime:
            value = datetime.fromisoformat(text)
            return value if value.tzinfo else value.replace(tzinfo=UTC)

        return parse_iso

    def parse(text: str) -> datetime:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)

    return parse


Row = list[str]


def _column(header: list[str], name: str, where: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise ConfigError(f"{where}: no column {name!r} in the CSV header") from None


def _builder(
    template: EventTemplate, tenant: str, header: list[str]
) -> Callable[[Row], dict[str, Any]]:
    """A row -> event function with every column resolved to its index up front."""
    parse_time = _time_parser(template.time_format)
    time_at = _column(header, template.time, f"{template.type} time")
    names = [n for _, n, _, _ in string.Formatter().parse(template.event_id) if n]
    id_at = [_column(header, n, f"{template.type} event_id") for n in names]
    id_format = template.event_id
    for k, name in enumerate(names):
        id_format = id_format.replace("{" + name + "}", "{" + str(k) + "}")
    flat: list[tuple[str, int, Callable[[str], Any]]] = []
    nested: list[tuple[tuple[str, ...], int, Callable[[str], Any]]] = []
    consts: dict[str, Any] = {}
    for path, spec in template.fields.items():
        field = FieldSpec(column=spec) if isinstance(spec, str) else spec
        if field.type not in _CASTS:
            raise ConfigError(f"field {path}: unknown type {field.type!r}")
        if field.column is None:
            consts[path] = field.const
            continue
        at = _column(header, field.column, f"field {path}")
        if "." in path:
            nested.append((tuple(path.split(".")), at, _CASTS[field.type]))
        else:
            flat.append((path, at, _CASTS[field.type]))

    def build(row: Row) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": template.type,
            "tenant": tenant,
            "event_id": id_format.format(*[row[i] for i in id_at]),
            "time": parse_time(row[time_at]),
            **consts,
        }
        for name, at, cast in flat:
            raw = row[at]
            if raw:
                event[name] = cast(raw)
        for path, at, cast in nested:
            raw = row[at]
            if raw:
                target = event
                for part in path[:-1]:
                    target = target.setdefault(part, {})
                target[path[-1]] = cast(raw)
        return event

    return build


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _event_time(pair: Labelled) -> Any:
    event = pair[0]
    return event["time"] if isinstance(event, dict) else 0


def iter_events(path: str | Path, mapping: Mapping | None = None) -> Iterator[Labelled]:
    """(event, labels) pairs in replay order. JSONL lines pass through as bytes."""
    path = Path(path)
    if mapping is None:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as lines:
            for line in lines:
                if line.startswith(b'{"event":'):  # simulator output: event plus its truth
                    wrapped = _labelled.decode(line)
                    yield bytes(wrapped.event), {k: str(v) for k, v in wrapped.truth.items()}
                elif line.strip():
                    yield line, {}
        return

    def produce() -> Iterator[Labelled]:
        with _open(path) as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            builders = [_builder(t, mapping.tenant, header) for t in mapping.events]
            labels = [(name, _column(header, name, "label")) for name in mapping.labels]
            for row in rows:
                if len(row) < len(header):
                    continue  # a blank or truncated line
                tags = {name: row[at] for name, at in labels}
                for build in builders:
                    yield build(row), tags

    if not mapping.sort_by_time:
        yield from produce()
        return
    events = list(produce())
    events.sort(key=_event_time)
    yield from events
