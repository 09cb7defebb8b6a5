"""Read events from JSONL, or from the rows of a CSV or Parquet file turned into events
by a mapping (``shopguard.replay.mapping``; docs/mappings.md).

A mapping names, per event a row produces, the event type, how to build its event_id
and time, and which column (or template, or constant) fills which field (dotted paths
build nested objects: ``device.id``, ``attributes.trust_level``). ``labels`` ride along
with each event for evaluation and are never shown to the engine.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from shopguard.errors import ConfigError, InvalidEvent
from shopguard.replay.build import ROW, RowError, builder, labeller
from shopguard.replay.mapping import (
    EventTemplate,
    FieldSpec,
    Mapping,
    load_mapping,
    parse_mapping,
)
from shopguard.replay.readers import Table

Labelled = tuple[dict[str, Any] | bytes, dict[str, str]]

__all__ = [
    "EventTemplate",
    "FieldSpec",
    "Labelled",
    "Mapping",
    "find_bad_row",
    "iter_events",
    "load_mapping",
    "parse_mapping",
    "rows_of",
]


class _Labelled(msgspec.Struct):
    event: msgspec.Raw
    truth: dict[str, Any] = {}


_labelled = msgspec.json.Decoder(_Labelled)


def _event_time(pair: Labelled) -> Any:
    event = pair[0]
    return event["time"] if isinstance(event, dict) else 0


def _wanted(mapping: Mapping) -> set[str] | None:
    """The columns a mapping reads (a Parquet file reads only those), None: all."""
    import string

    names: set[str] = {s.column for s in mapping.label_specs().values()}
    for template in mapping.events:
        time = template.time_spec()
        if time.column:
            names.add(time.column)
        formats = [template.event_id]
        for spec in template.fields.values():
            field = FieldSpec(column=spec) if isinstance(spec, str) else spec
            if field.column:
                names.add(field.column)
            if field.template:
                formats.append(field.template)
        for text in formats:
            names.update(n for _, n, _, _ in string.Formatter().parse(text) if n and n != ROW)
    return names


def rows_of(
    path: Path, mapping: Mapping
) -> Iterator[tuple[int, list[dict[str, Any]], dict[str, str]]]:
    """(row number, the row's events, its labels), errors naming the file and row."""
    table = Table(path, mapping.file, _wanted(mapping))
    rows = table.rows()
    try:
        _, header = next(rows)
        missing = set(mapping.file.missing)
        where = f"{path}"
        try:
            builders = [builder(t, mapping.tenant, header, missing) for t in mapping.events]
            labels = labeller(mapping.label_specs(), header, missing)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        for number, row in rows:
            yield number, [build(row, number) for build in builders], labels(row, number)
    except RowError as exc:
        raise ConfigError(f"{path} {exc}") from None


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
        for _, events, tags in rows_of(path, mapping):
            for event in events:
                yield event, tags

    if not mapping.sort_by_time:
        yield from produce()
        return
    events = list(produce())
    events.sort(key=_event_time)
    yield from events


def find_bad_row(path: str | Path, mapping: Mapping, event_id: str | None = None) -> str:
    """Where a produced event fails decoding: ``FILE row N: TYPE event: $.path: why``.
    Only run after the engine refused one (decoding every row here would cost as much
    as the engine's own decode): the row whose event has ``event_id``, else the first
    that fails. Empty when every row decodes."""
    from shopguard.events.decode import decode_event

    for number, events, _ in rows_of(Path(path), mapping):
        for event in events:
            if event_id is not None and event["event_id"] != event_id:
                continue
            try:
                decode_event(event)
            except InvalidEvent as exc:
                return f"{path} row {number}{_column_of(mapping, event, exc.path)}: " + said(
                    event, exc
                )
    return find_bad_row(path, mapping) if event_id is not None else ""


def said(event: dict[str, Any], exc: InvalidEvent) -> str:
    """``payment event: $.amount: Expected ...`` (msgspec's own "- at" dropped)."""
    message = str(exc).rsplit(" - at `", 1)[0]
    return f"{event['type']} event: {exc.path}: {message}"


def _column_of(mapping: Mapping, event: dict[str, Any], path: str) -> str:
    """``, column 'amt'`` when the refused field came from one column."""
    dotted = path.removeprefix("$.")
    for template in mapping.events:
        if template.type != event["type"]:
            continue
        spec = template.fields.get(dotted)
        column = spec if isinstance(spec, str) else spec.column if spec else None
        if dotted == "time":
            column = template.time_spec().column
        if column:
            return f", column {column!r}"
    return ""
