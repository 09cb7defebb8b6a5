"""The mapping file: how rows of a CSV or Parquet file become events (docs/mappings.md).

Checked whole at load, against the event catalog: an unknown key, event type or field
is refused before the first row is read, naming where in the mapping it is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import msgspec.inspect as mi
from msgspec import UNSET, UnsetType

from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_CLASSES, BaseEvent, Device, Profile
from shopguard.yamlio import load_yaml

# Cast names a field spec may use; replay.build holds the functions.
CASTS = ("str", "int", "float", "number", "bool", "ipv4_from_number")
# Time formats besides a strptime pattern ("%m/%d/%Y %H:%M").
TIME_FORMATS = ("iso", "epoch_s", "epoch_ms", "epoch_us")
# Set by the mapping's own keys (type, event_id, time), never by a column.
_RESERVED = {"type", "event_id", "time"}
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]*$")
_BY_TYPE: dict[str, type[BaseEvent]] = {str(c.__struct_config__.tag): c for c in EVENT_CLASSES}
_NESTED: dict[str, type[msgspec.Struct]] = {"device": Device, "profile": Profile}


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True):
    """One field: from a ``column``, a ``template`` over columns, or a ``const``."""

    column: str | None = None
    template: str | None = None  # "{first}-{second}": columns joined as text
    const: Any | UnsetType = UNSET
    type: str | None = None  # one of CASTS; None: what the catalog's field holds
    map: dict[str, Any] | None = None  # cell value -> field value (e.g. {SEO: web})


class TimeSpec(msgspec.Struct, forbid_unknown_fields=True):
    """Where an event's time comes from: a ``column`` in a ``format``, or, for a file
    with no times at all, ``none: true`` and times made up as ``start`` + row x ``step``
    (said explicitly, so that a missing time column is never filled in silently)."""

    column: str | None = None
    format: str = "iso"  # one of TIME_FORMATS or a strptime pattern
    zone: str | None = None  # of times written without one: "+08:00", "Europe/Paris"; UTC
    none: bool = False
    start: str | None = None  # ISO 8601; without a zone, UTC
    step: str | float = "1s"


class EventTemplate(msgspec.Struct, forbid_unknown_fields=True):
    type: str
    event_id: str  # a format string over the row: "pay-{TRANSACTION_ID}", "{_row}"
    time: str | TimeSpec  # a column name, or a TimeSpec
    time_format: str = "iso"  # the older spelling of time.format, with time: COLUMN
    fields: dict[str, str | FieldSpec] = {}

    def time_spec(self) -> TimeSpec:
        if isinstance(self.time, TimeSpec):
            return self.time
        return TimeSpec(column=self.time, format=self.time_format)


class LabelSpec(msgspec.Struct, forbid_unknown_fields=True):
    column: str
    map: dict[str, str] | None = None  # cell value -> label value ({"1": fraud})


class FileSpec(msgspec.Struct, forbid_unknown_fields=True):
    """How to read the file. ``format`` auto: by its first bytes (Parquet, gzip) and name."""

    format: Literal["auto", "csv", "parquet"] = "auto"
    delimiter: str = ","
    quote: str = '"'
    quoting: Literal["minimal", "none"] = "minimal"  # none: quote characters are data
    escape: str | None = None
    encoding: str = "utf-8-sig"  # utf-8, a byte-order mark skipped
    columns: list[str] | None = None  # a file without a header row: its column names
    missing: list[str] = msgspec.field(
        default_factory=lambda: [""]
    )  # cells that mean "absent" ("", NA, null...)


class Mapping(msgspec.Struct, forbid_unknown_fields=True):
    tenant: str
    events: list[EventTemplate]
    labels: list[str] | dict[str, str | LabelSpec] = []
    sort_by_time: bool = False
    description: str = ""
    file: FileSpec = msgspec.field(default_factory=FileSpec)

    def label_specs(self) -> dict[str, LabelSpec]:
        """Every label as name -> spec (the list form: a column is its own label)."""
        if isinstance(self.labels, list):
            return {name: LabelSpec(column=name) for name in self.labels}
        return {
            name: LabelSpec(column=spec) if isinstance(spec, str) else spec
            for name, spec in self.labels.items()
        }

    def label_names(self) -> list[str]:
        return list(self.label_specs())


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
    return parse_mapping(text, name_or_path)


def parse_mapping(text: str, source: str = "mapping") -> Mapping:
    try:
        mapping = msgspec.convert(load_yaml(text), Mapping)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"mapping {source}: {_words(str(exc))}") from None
    except Exception as exc:  # the YAML itself (yaml.YAMLError and its many kinds)
        first = str(exc).strip().splitlines()
        raise ConfigError(f"mapping {source}: not valid YAML: {' '.join(first[:3])}") from None
    for i, template in enumerate(mapping.events):
        check_template(template, f"mapping {source}: events[{i}] ({template.type})")
    return mapping


def _words(message: str) -> str:
    """msgspec's refusal of a key said as a mapping author would read it."""
    if message.startswith("Object contains unknown field `"):
        key = message.split("`", 2)[1]
        where = message.rpartition(" - at `")[2].rstrip("`")
        return f"unknown key {key!r} at {where}"
    return message


def check_template(template: EventTemplate, where: str) -> None:
    """Refuse what the catalog would refuse on every row: an unknown type or field, a
    field spec that names no source, an unknown cast or time format."""
    cls = _BY_TYPE.get(template.type)
    if cls is None:
        known = ", ".join(_BY_TYPE)
        raise ConfigError(f"{where}: unknown event type {template.type!r}; one of {known}")
    time = template.time_spec()
    if time.none and time.start is None:
        raise ConfigError(f"{where}: time none: true needs a start (e.g. 2025-01-01T00:00:00Z)")
    if not time.none and not time.column:
        raise ConfigError(f"{where}: time needs a column (or none: true, start, step)")
    if "%" not in time.format and time.format not in TIME_FORMATS:
        raise ConfigError(
            f"{where}: time format {time.format!r}: one of {', '.join(TIME_FORMATS)} "
            "or a strptime pattern such as '%Y-%m-%d %H:%M:%S'"
        )
    if time.zone is not None:
        try:
            zone(time.zone)
        except ConfigError as exc:
            raise ConfigError(f"{where}: time: {exc}") from None
    for path, spec in template.fields.items():
        check_field(cls, path, f"{where}: field {path}")
        if isinstance(spec, FieldSpec):
            sources = [spec.column is not None, spec.template is not None, spec.const is not UNSET]
            if sum(sources) != 1:
                raise ConfigError(f"{where}: field {path}: give one of column, template, const")
            if spec.type is not None and spec.type not in CASTS:
                raise ConfigError(
                    f"{where}: field {path}: unknown type {spec.type!r}; one of {', '.join(CASTS)}"
                )


def check_field(cls: type[BaseEvent], path: str, where: str) -> None:
    parts = path.split(".")
    head = parts[0]
    if head in _RESERVED:
        raise ConfigError(f"{where}: {head} is set by the mapping's own {head}: key")
    if head not in cls.__struct_fields__:
        known = ", ".join(f for f in cls.__struct_fields__ if f not in _RESERVED)
        raise ConfigError(f"{where}: {cls.__struct_config__.tag} has no field {head!r}; {known}")
    if head == "attributes":
        if len(parts) != 2 or not _ATTRIBUTE.match(parts[1]):
            raise ConfigError(f"{where}: attributes.NAME, NAME in lower_snake_case")
    elif head in _NESTED:
        inner = _NESTED[head]
        if len(parts) != 2 or parts[1] not in inner.__struct_fields__:
            fields = ", ".join(f"{head}.{f}" for f in inner.__struct_fields__)
            raise ConfigError(f"{where}: one of {fields}")
    elif len(parts) > 1:
        raise ConfigError(f"{where}: {head} holds no fields of its own")


def cast_for(event_type: str, path: str, given: str | None) -> str:
    """The cast of a field: the one given, else what the catalog's field holds (an
    amount a float, a flag a bool), else text; an attribute without one is text."""
    if given is not None:
        return given
    info: Any = mi.type_info(_BY_TYPE[event_type])
    for part in path.split("."):
        info = _unwrap(info)
        if not isinstance(info, mi.StructType):
            return "str"
        info = next((f.type for f in info.fields if f.name == part), None)
    info = _unwrap(info)
    if isinstance(info, mi.FloatType):
        return "float"
    if isinstance(info, mi.IntType):
        return "int"
    return "bool" if isinstance(info, mi.BoolType) else "str"


def _unwrap(info: Any) -> Any:
    """The type under Optional[...] and Annotated[...] wrappers."""
    while True:
        if isinstance(info, mi.Metadata):
            info = info.type
        elif isinstance(info, mi.UnionType):
            kinds = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(kinds) != 1:
                return info
            info = kinds[0]
        else:
            return info


def zone(name: str | None) -> tzinfo:
    """``+08:00``, ``Europe/Paris`` or None (UTC): the zone of times written without one."""
    if name is None:
        return UTC
    if name[:1] in "+-":
        return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo or UTC
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"unknown time zone {name!r}: an offset (+08:00) or a name") from None
