"""A drafted mapping written out as commented YAML (see replay.draft for the guessing)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from shopguard.events.catalog import BaseEvent
from shopguard.replay.mapping import FileSpec

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]*$")
# role -> field path (time, label, personal and unplaced columns are handled apart)
FIELD_OF = {
    "account": "account",
    "device": "device.id",
    "os": "device.os",
    "ip": "ip",
    "email": "email",
    "phone": "phone",
    "user_agent": "user_agent",
    "address": "address",
    "merchant": "merchant",
    "terminal": "terminal",
    "order_id": "order_id",
    "currency": "currency",
    "card": "card",
    "amount": "amount",
}
_CAST_OF = {"amount": "float"}


@dataclass
class Column:
    name: str
    key: str  # the name in lower_snake_case
    role: str | None = None
    values: list[str] = field(default_factory=list)
    unique: bool = False
    cast: str = "str"
    time_format: str = ""
    label_map: dict[str, str] | None = None
    note: str = ""


@dataclass
class EventDraft:
    type: str
    time: Column | None
    event_id: str
    id_note: str = ""
    todo: list[str] = field(default_factory=list)


@dataclass
class Draft:
    source: Path
    tenant: str
    file: FileSpec
    columns: list[Column]
    events: list[EventDraft]
    sort_by_time: bool
    classes: dict[str, type[BaseEvent]]
    guessed_header: bool = False


def q(text: str) -> str:
    """A YAML scalar: plain when safe, else JSON's double quotes (valid YAML too)."""
    return (
        text
        if _PLAIN.match(text) and text.lower() not in ("true", "false", "null")
        else json.dumps(text)
    )


def _spec(column: Column, cast: str) -> str:
    if cast == "str":
        return q(column.name)
    return f"{{column: {q(column.name)}, type: {cast}}}"


def _file_line(spec: FileSpec) -> list[str]:
    default = FileSpec()
    shown = {
        k: v
        for k, v in msgspec.structs.asdict(spec).items()
        if v != getattr(default, k) and k != "format"
    }
    parts = [f"format: {spec.format}"] + [f"{k}: {json.dumps(v)}" for k, v in shown.items()]
    return [f"file: {{{', '.join(parts)}}}  # detected: check delimiter and encoding"]


def _fields(draft: Draft, event: EventDraft, last: bool) -> list[str]:
    cls = draft.classes[event.type]
    lines: list[str] = []
    placed: set[str] = set()
    for column in draft.columns:
        path = FIELD_OF.get(column.role or "")
        if path is None or path.split(".")[0] not in cls.__struct_fields__:
            continue
        spec = _spec(column, _CAST_OF.get(column.role or "", column.cast))
        if path in placed:  # a second column that looks the same: the user picks
            lines.append(f"      # TODO: {column.name} looks like {path} too: {path}: {spec}")
            continue
        placed.add(path)
        note = f"  # {column.note}" if column.note else ""
        lines.append(f"      {path}: {spec}{note}")
    for name in _required(cls):
        if name not in placed:
            lines.append(f"      # TODO: {event.type} needs {name}: map a column to it")
    unplaced = [c for c in draft.columns if c.role is None] if last else []
    if unplaced:
        lines.append("      # Not placed: uncomment to carry as custom attributes (declared in")
        lines.append("      # the pack's attributes.yaml), or map to a field of the catalog.")
    for column in unplaced:
        note = f"  # {column.note}" if column.note else ""
        lines.append(
            f"      # attributes.{_attribute(column.key)}: {_spec(column, column.cast)}{note}"
        )
    if all(line.lstrip().startswith("#") for line in lines):
        return ["    fields: {}", *lines]  # only comments under it would read as null
    return ["    fields:", *lines]


def _required(cls: type[BaseEvent]) -> list[str]:
    own = {"event_id", "time", "tenant"}
    return [f.name for f in msgspec.structs.fields(cls) if f.required and f.name not in own]


def _attribute(key: str) -> str:
    return key if re.match(r"^[a-z]", key) else f"a_{key}"


def _event(draft: Draft, event: EventDraft, last: bool) -> list[str]:
    lines = [f"  - type: {event.type}"]
    lines += [f"    # TODO: {todo}" for todo in event.todo]
    note = f"  # TODO: {event.id_note}" if event.id_note else ""
    lines.append(f"    event_id: {json.dumps(event.event_id)}{note}")
    if event.time is None:
        lines.append('    time: {none: true, start: "2025-01-01T00:00:00Z", step: 1s}')
    else:
        fmt = json.dumps(event.time.time_format)
        lines.append(f"    time: {{column: {q(event.time.name)}, format: {fmt}}}")
    return lines + _fields(draft, event, last)


def render(draft: Draft) -> str:
    rows = len(draft.columns[0].values) if draft.columns else 0
    out = [
        f"# Drafted by `shopguard mapping draft` from {draft.source.name} ({rows} sample rows).",
        "# Check each TODO and guess, then: shopguard replay FILE --mapping THIS_FILE",
        "# Reference: docs/mappings.md",
        "description: >",
        f"  Rows of {draft.source.name}, drafted: {', '.join(e.type for e in draft.events)}.",
        f"tenant: {q(draft.tenant)}",
        *_file_line(draft.file),
    ]
    if draft.guessed_header:
        out.append("# TODO: the first row looked like data: columns are named col1, col2...")
    if draft.sort_by_time:
        out.append("sort_by_time: true  # several events a row: replayed in time order")
    out.append("events:")
    for i, event in enumerate(draft.events):
        out += _event(draft, event, i == len(draft.events) - 1)
    labels = [c for c in draft.columns if c.role == "label"]
    if labels:
        out.append("labels:  # ride along for evaluation, never shown to the engine")
        for column in labels:
            if column.label_map:
                pairs = ", ".join(f"{q(k)}: {json.dumps(v)}" for k, v in column.label_map.items())
                out.append(f"  {q(column.name)}: {{column: {q(column.name)}, map: {{{pairs}}}}}")
            else:
                out.append(f"  {q(column.name)}: {q(column.name)}")
    personal = [c.name for c in draft.columns if c.role == "personal"]
    if personal:
        out.append(f"# not mapped, personal data ShopGuard does not keep: {', '.join(personal)}")
    return "\n".join(out) + "\n"
