"""Training sets from replay: the same engine decides history with ``explain`` on, and
each event's row is exactly the values its decision saw (numeric facts and features, as
of before the event; the clear-text categories of its facts as text), plus the label.
There is no second feature code path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from shopguard.engine import Engine, RawEvent
from shopguard.errors import ConfigError
from shopguard.events import decode_event
from shopguard.model.categories import category_names, encode, text


def build(
    engine: Engine,
    labelled: Iterable[tuple[RawEvent, int]],
    types: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
    entities: tuple[str, ...] = ("account", "card", "device", "terminal"),
    since: float = float("-inf"),
    until: float = float("inf"),
) -> pa.Table:
    """One row per decided event of ``types`` (all when None): event_id, tenant, type,
    time, label, the ``entities`` (pseudonyms: for grouping, card-precision and folds,
    never model inputs), then every value in sorted order: numbers, and the categories
    (``categories.category_names``: channel, merchant... and the pack's declared category
    attributes) as text. ``labelled``: (event, 0/1)
    pairs in time order. Events before ``since`` are decided (they build state) but only
    those in [since, until) become rows."""
    if not engine.settings.explain:
        raise ConfigError("datasets need an engine built with explain: true")
    columns: dict[str, list[Any]] = {name: [] for name in _HEAD}
    # the type is a head column already; the rest are read from the facts the scope holds
    categories = [n for n in category_names(engine.pack) if n not in _HEAD]
    count = 0
    for i, (raw, label) in enumerate(labelled):
        event = decode_event(raw)  # once: the engine takes it decoded, desensitize too
        decision = engine.decide(event)
        if progress is not None and i % 10_000 == 0:
            progress(i)
        if types is not None and decision.type not in types:
            continue
        if not since <= decision.time < until:
            continue
        row: dict[str, Any] = {name: _number(v) for name, v in decision.features.items()}
        facts, _ = engine.desensitize(event)  # the scope's facts: what its decision read
        row.update({name: text(facts.get(name)) for name in categories})
        if entities:
            row.update({f"entity_{kind}": facts.get(kind) for kind in entities})
        row.update(
            event_id=decision.event_id,
            tenant=decision.tenant,
            type=decision.type,
            time=decision.time,
            label=label,
        )
        for name in row.keys() - columns.keys():  # a value first seen now: earlier rows lack it
            columns[name] = [None] * count
        for name, column in columns.items():
            column.append(row.get(name))
        count += 1
    order = [*_HEAD, *sorted(set(columns) - set(_HEAD))]
    return pa.table({name: columns[name] for name in order})


_HEAD = ("event_id", "tenant", "type", "time", "label")


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def inputs(table: pa.Table, categories: bool = True) -> list[str]:
    """The columns a model may learn from: numbers and categories (text, unless not
    ``categories``) with at least one value, the event type when the set mixes types,
    never the other head columns (ids, time, label) nor the entity pseudonyms."""
    names = [
        f.name
        for f in table.schema
        if f.name not in _HEAD
        and not f.name.startswith("entity_")
        and (_numeric(f.type) or (categories and _text(f.type)))
        and table.column(f.name).null_count < table.num_rows
    ]
    if categories and "type" in table.column_names and len(table.column("type").unique()) > 1:
        names.append("type")
    return names


def categorical(table: pa.Table, names: list[str]) -> list[str]:
    """Those of ``names`` that are categories: text columns."""
    return [n for n in names if _text(table.schema.field(n).type)]


def matrix(
    table: pa.Table, names: list[str], encodings: dict[str, list[str]] | None = None
) -> NDArray[np.float64]:
    """The named columns as a float matrix (missing values NaN); a category column as its
    codes in ``encodings`` (a value outside them NaN)."""
    encodings = encodings or {}
    columns = []
    for name in names:
        column = table.column(name)
        if _text(column.type):
            if name not in encodings:
                raise ConfigError(f"column {name!r} is text: a category needs its encoding")
            columns.append(encode(column.to_pylist(), encodings[name]))
        else:
            columns.append(floats(column))
    return np.column_stack(columns) if columns else np.empty((table.num_rows, 0))


def floats(column: pa.ChunkedArray) -> NDArray[np.float64]:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _numeric(kind: pa.DataType) -> bool:
    types = pa.types
    return bool(types.is_integer(kind) or types.is_floating(kind) or types.is_boolean(kind))


def _text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
