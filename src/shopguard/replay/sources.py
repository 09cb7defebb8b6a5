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
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

import msgspec

from shopguard.errors import ConfigError
from shopguard.yamlio import load_yaml

Labelled = tuple[dict[str, Any] | bytes, dict[str, str]]


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


def _builder(template: EventTemplate, tenant: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    parse_time = _time_parser(template.time_format)
    setters: list[tuple[tuple[str, ...], FieldSpec]] = []
    for path, spec in template.fields.items():
        field = FieldSpec(column=spec) if isinstance(spec, str) else spec
        if field.type not in _CASTS:
            raise ConfigError(f"field {path}: unknown type {field.type!r}")
        setters.append((tuple(path.split(".")), field))

    def build(row: dict[str, str]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": template.type,
            "tenant": tenant,
            "event_id": template.event_id.format_map(row),
            "time": parse_time(row[template.time]),
        }
        for path, field in setters:
            if field.column is None:
                value = field.const
            else:
                raw = row.get(field.column)
                if raw is None or raw == "":
                    continue
                value = _CASTS[field.type](raw)
            target = event
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
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
                if line.strip():
                    yield line, {}
        return
    builders = [_builder(t, mapping.tenant) for t in mapping.events]
    labels = mapping.labels

    def produce() -> Iterator[Labelled]:
        with _open(path) as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            for values in rows:
                row = dict(zip(header, values, strict=False))
                tags = {name: row.get(name, "") for name in labels}
                for build in builders:
                    yield build(row), tags

    if not mapping.sort_by_time:
        yield from produce()
        return
    events = list(produce())
    events.sort(key=_event_time)
    yield from events
