"""Generate, once per event type at load, the function that reads its features.

The read runs on every event and touches every stream the rules and the model need (with
a model reading forty features, some thirty streams): a generic loop over streams and
reader closures spent most of its time dispatching. The generated function is that
loop unrolled for one event type: the state row of each of the event's entities fetched
in one batched ``load`` of the event's tenant (rows never cross tenants), the common
readers (count, first seen, since last, followed by) written inline and the others
called as state methods, the values returned as one dict display. It is built only from
the plan's own names and numbers (feature names are ``[a-z][a-z0-9_]*``, entity kinds
come from the schema, windows are floats), never from event data.

Each feature's expression comes from ``features.access.read_expression``; tests check the
generated read against a plain loop calling the states' methods, for every pack.
"""

from __future__ import annotations

import itertools
import linecache
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.features.access import blank, read_expression

if TYPE_CHECKING:
    from shopguard.features.plan import Use
    from shopguard.state.protocol import Touched

Facts = dict[str, Any]
Load = Callable[[str, list[Any]], list[Any]]  # load(tenant, keys)
Read = Callable[[Facts, Load], "tuple[Facts, Touched]"]
_compiled = itertools.count(1)


def compile_read(
    event_type: str,
    uses: list[Use],
    ratios: list[tuple[str, str, str]],
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
        wanted = ", ".join(f"k{i}" for i in range(len(rows)))
        lines.append(f"    {loaded}= load(facts['tenant'], [{wanted}])")
    lines.append("    touched = []")
    for u, use in enumerate(uses):
        row, slot = rows[use.stream.group], use.stream.slot
        missing, empty, present = [], [], []
        for spec in use.readers:
            var = names[spec.name] = f"v{len(names)}"
            missing.append(f"{var} = None")
            empty.append(f"{var} = {blank(spec)!r}")  # 0, 0.0, None or False
            present.append(f"{var} = {read_expression(spec, 's')}")
        if use.apply:
            namespace[f"F{u}"] = use.fold
            gate = ""
            if use.gate is not None:  # a `where` reading features as of before the event
                namespace[f"G{u}"] = use.gate
                shown = ", ".join(f"{n!r}: {names[n]}" for n in sorted(use.stream.gate_names))
                gate = f"if G{u}({{**facts, {shown}}}): "
            empty.append(f"{gate}touched.append((k{row}, {slot}, None, F{u}))")
            present.append(f"{gate}touched.append((k{row}, {slot}, s, F{u}))")
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
