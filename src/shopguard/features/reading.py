"""Generate, once per event type at load, the function that reads its features.

The read runs on every event and touches every stream the rules and the model need (with
a model reading forty features, some thirty streams): a generic loop over streams and
reader closures spent most of its time dispatching. The generated function is that
loop unrolled for one event type: the state row of each of the event's entities fetched
in one batched ``load``, the common readers (count, first seen, since last, followed by)
written inline and the others called as state methods, the values returned as one dict
display. It is built
only from the plan's own names and numbers (feature names are ``[a-z][a-z0-9_]*``,
entity kinds come from the schema, windows are floats), never from event data.

Semantics are those of ``features.access.reader_for``; tests check the generated read
against a plain recomputation for every pack.
"""

from __future__ import annotations

import itertools
import linecache
from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopguard.features.plan import Touched, Use

Facts = dict[str, Any]
_compiled = itertools.count(1)
Load = Callable[[list[Any]], list[Any]]
Read = Callable[[Facts, Load], "tuple[Facts, Touched]"]


def _value(kind: str, state: str, window: float, within: float) -> str:
    """The expression reading one feature from a non-empty ``state`` at time ``t``."""
    cutoff = f"t - {window!r}"
    if kind == "count":
        return f"len({state}.times) - bisect_right({state}.times, {cutoff})"
    if kind == "sum":
        return f"{state}.total({cutoff})"
    if kind == "mean":
        return f"{state}.mean({cutoff})"
    if kind == "max":
        return f"{state}.maximum({cutoff})"
    if kind == "distinct":
        return f"{state}.count({cutoff})"
    if kind == "first_seen":
        return f"t - {state}.first"
    if kind == "since_last":
        return f"t - {state}.last"
    if kind == "followed_by":
        return f"t - {state}.last <= {within!r}"
    if kind == "outstanding":
        return f"{state}.total({cutoff})"
    if kind == "not_followed_by":
        return f"{state}.timed_out(t, {within!r}, {window!r})"
    raise AssertionError(kind)


def compile_read(
    event_type: str,
    uses: list[Use],
    ratios: list[tuple[str, str, str]],
    specs: Mapping[str, Any],
) -> Read:
    """The read for one event type: ``values, touched = read(facts, load)``."""
    lines = ["def read(facts, load):", "    t = facts['time']", "    get = facts.get"]
    entities: dict[str, str] = {}
    names: dict[str, str] = {}  # feature name -> local holding its value
    namespace: dict[str, Any] = {"bisect_right": bisect_right}

    def entity(kind: str) -> str:
        if kind not in entities:
            entities[kind] = f"e{len(entities)}"
            lines.append(f"    {entities[kind]} = get({kind!r})")
        return entities[kind]

    rows: dict[int, int] = {}  # stream group -> index of its row in this read
    key_of: dict[int, str] = {}  # row index -> the local holding its entity key
    for use in uses:
        group = use.stream.group
        if group in rows:
            continue
        i = rows[group] = len(rows)
        parts = [entity(kind) for kind in use.stream.key]
        if len(parts) == 1:
            key_of[i] = parts[0]
        else:
            a, b = parts
            key_of[i] = f"p{i}"
            lines.append(f"    p{i} = None if {a} is None or {b} is None else {a} + '|' + {b}")
        lines.append(f"    k{i} = ({group}, {key_of[i]})")
    if rows:
        loaded = "".join(f"r{i}, " for i in range(len(rows)))
        lines.append(f"    {loaded}= load([{', '.join(f'k{i}' for i in range(len(rows)))}])")
    lines.append("    touched = []")
    for u, use in enumerate(uses):
        row, slot = rows[use.stream.group], use.stream.slot
        local = [f"v{len(names) + j}" for j in range(len(use.readers))]
        missing, empty, present = [], [], []
        for (name, reader, blank), var in zip(use.readers, local, strict=True):
            names[name] = var
            missing.append(f"{var} = None")
            namespace[f"E{var}"] = blank  # the value for a key never seen: 0, 0.0, None...
            empty.append(f"{var} = E{var}")
            spec = specs[name]
            if spec.kind == "baseline":  # rare, and its reader carries its own constants
                namespace[f"R{var}"] = reader
                present.append(f"{var} = R{var}(s, t)")
            else:
                present.append(f"{var} = {_value(spec.kind, 's', spec.window_s, spec.within_s)}")
        if use.apply:
            namespace[f"F{u}"] = use.fold
            empty.append(f"touched.append((k{row}, {slot}, None, F{u}))")
            present.append(f"touched.append((k{row}, {slot}, s, F{u}))")
        lines.append(f"    if {key_of[row]} is None:")
        lines.extend(f"        {line}" for line in missing or ["pass"])
        lines.append(f"    elif r{row} is None or (s := r{row}[{slot}]) is None:")
        lines.extend(f"        {line}" for line in empty)
        lines.append("    else:")
        lines.extend(f"        {line}" for line in present)
    for name, num, den in ratios:
        var = f"v{len(names)}"
        a = names.get(num, f"get({num!r})")
        b = names.get(den, f"get({den!r})")
        lines.append(f"    _a, _b = {a}, {b}")
        lines.append(f"    {var} = None if _a is None or not _b else _a / _b")
        names[name] = var
    shown = ", ".join(f"{name!r}: {var}" for name, var in names.items())
    lines.append(f"    return {{{shown}}}, touched")
    source = "\n".join(lines) + "\n"
    filename = f"<feature read for {event_type} #{next(_compiled)}>"  # one per plan
    # Tracebacks and inspect.getsource() show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    read: Read = namespace["read"]
    return read
