"""Compile feature specs into a per-event-type plan the engine runs on every event.

A *stream* is the state one group of features shares: same kind of state, key, event
types and filter (e.g. every count/sum/mean of payment amounts per account). For each
event type the plan lists the streams to read (only those behind features some rule on
that type uses) and the streams the event updates. Streams keyed by the same entities
share a state row (an account's row holds all its account streams), so an event loads
each of its entities once; reading happens before the decision, updating after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopguard.desensitize.schema import ENTITY_KINDS, FACT_TYPES, STR
from shopguard.errors import ConfigError
from shopguard.features.access import folder
from shopguard.features.kinds import KINDS, Kind
from shopguard.features.kinds.base import MAX_WINDOW_S
from shopguard.features.reading import compile_read
from shopguard.features.spec import FeatureSpec
from shopguard.rules.language import compile_expression
from shopguard.state.protocol import LoadKey, StateKey, Touched

State = Any
# What a feature may be keyed by: an entity, or any string fact but the event's own id
# (``tenant``: the whole population; ``phone_country``: each destination country).
KEYS = ENTITY_KINDS | {fact for fact, t in FACT_TYPES.items() if t == STR} - {"event_id"}
Facts = dict[str, Any]


@dataclass(eq=False)
class Stream:
    sid: int
    kind: str  # the state it keeps, e.g. "events" | "distinct" | "pending"
    owner: Kind  # the kind that makes that state and folds events into it
    key: tuple[str, ...]
    on: frozenset[str]
    where: Callable[[Mapping[str, Any]], Any] | None
    field: str | None = None  # events: the value summed / maxed; distinct: the value counted
    then: frozenset[str] = frozenset()  # pending: the event types that settle it
    retention: float = 0.0  # baseline: the bucket length
    alpha: float = 0.0  # baseline: weight of each closed bucket
    match: tuple[str, str] = ("", "")  # outstanding: the id fact on first / then events
    compute: Callable[[Mapping[str, Any]], Any] | None = None  # events: field as expression
    gate: Callable[[Mapping[str, Any]], Any] | None = None  # a `where` reading features
    gate_names: frozenset[str] = frozenset()  # the features the gate reads
    with_sum: bool = False
    with_max: bool = False
    group: int = 0  # the state row its key's entities share (one per key: account, ip...)
    slot: int = 0  # its place in that row

    def new(self) -> State:
        return self.owner.factory(self)()


@dataclass
class Use:
    """One stream's role for one event type: which features it feeds, whether to update."""

    stream: Stream
    readers: list[FeatureSpec] = field(default_factory=list)  # the features it feeds
    apply: bool = False
    fold: Any = None  # set at compile when ``apply``: folds the event into the state
    gate: Any = None  # set when its `where` reads features: checked by the read, not the fold


class FeaturePlan:
    def __init__(
        self,
        specs: Iterable[FeatureSpec],
        max_events: int = 10_000,
        distinct_bound: int = 1_000,
        *,
        facts: Mapping[str, str] | None = None,
        keys: frozenset[str] = frozenset(),
    ) -> None:
        """``facts``: the pack's declared attributes (name -> num / str / bool), read by
        features as built-in facts are; ``keys``: those a feature may be keyed by."""
        self.specs = {spec.name: spec for spec in specs}
        self.facts: dict[str, str] = {**FACT_TYPES, **(facts or {})}
        self.keys = KEYS | keys
        self.max_events = max_events
        self.distinct_bound = distinct_bound
        self.streams: dict[tuple[Any, ...], Stream] = {}
        # One state row per entity (or entity pair) holds every stream keyed by it, so an
        # event reads each of its entities with one lookup: groups[key] -> row index,
        # widths[index] -> streams in that row.
        self.groups: dict[tuple[str, ...], int] = {}
        self.widths: list[int] = []
        self.feature_stream: dict[str, Stream] = {}
        self.ratios: dict[str, tuple[str, str]] = {}
        self.types = self._types()
        for spec in self.specs.values():
            self._add(spec)
        self._check_gates()
        for name in self.ratios:
            self._ratio_order(name, set(), [], set())  # refuses a ratio made of itself

    def _types(self) -> dict[str, str]:
        return {name: KINDS[spec.kind].type for name, spec in self.specs.items()}

    def kind(self, name: str) -> Kind:
        """The kind of the feature ``name`` (declared)."""
        return KINDS[self.specs[name].kind]

    def _add(self, spec: FeatureSpec) -> None:
        where = f"feature {spec.name}"
        kind = KINDS[spec.kind]
        filt = gate = None
        reads: frozenset[str] = frozenset()
        if kind.keyed:
            for entity in spec.key:
                if entity not in self.keys:
                    raise ConfigError(f"unknown key entity {entity!r}", where)
            if spec.where:
                compiled = compile_expression(spec.where, {**self.types, **self.facts}, where)
                reads = frozenset(n for n in compiled.names if n in self.specs)
                if reads:  # reads features as of before the event: the read checks it
                    gate = compiled.fn
                else:
                    filt = compiled.fn
        stream = kind.bind(spec, self, filt, where)
        if stream is not None:
            stream.gate, stream.gate_names = gate, reads
            self.feature_stream[spec.name] = stream

    def _check_gates(self) -> None:
        for name, stream in self.feature_stream.items():
            for read in sorted(stream.gate_names):
                if read not in self.feature_stream or self.feature_stream[read].gate is not None:
                    raise ConfigError(
                        f"`where` reads {read!r}: a feature with state of its own whose own "
                        "`where` reads only facts (not a ratio)",
                        f"feature {name}",
                    )

    def _ratio_order(
        self, name: str, visiting: set[str], order: list[str], done: set[str]
    ) -> list[str]:
        """``name`` after the ratios it is made of (computed in that order)."""
        if name in done:
            return order
        if name in visiting:
            raise ConfigError("a ratio made of itself", f"feature {name}")
        visiting.add(name)
        for part in self.ratios[name]:
            if part in self.ratios:
                self._ratio_order(part, visiting, order, done)
        done.add(name)
        order.append(name)
        return order

    def stream(
        self,
        kind: str,
        owner: Kind,
        key: tuple[str, ...],
        on: frozenset[str],
        where_text: str | None,
        where: Any,
        value: str | None = None,
        extra: str | None = None,
    ) -> Stream:
        """The stream of state ``kind`` for this key, events, filter, value and ``extra``
        (what else tells its states apart), made on first use."""
        ident = (kind, key, on, where_text, value, extra)
        stream = self.streams.get(ident)
        if stream is None:
            stream = Stream(len(self.streams), kind, owner, key, on, where, value)
            stream.group = self.groups.setdefault(key, len(self.groups))
            if stream.group == len(self.widths):
                self.widths.append(0)
            stream.slot = self.widths[stream.group]
            self.widths[stream.group] += 1
            self.streams[ident] = stream
        return stream

    def group_ttls(self) -> list[float]:
        """Per state row (key group), how long a row no event touched is worth keeping:
        its longest window; a stream without one (first seen, since last, baselines,
        sequences) keeps it for the longest window a feature may have (90 days)."""
        ttls = [0.0] * len(self.widths)
        for stream in self.streams.values():
            windowed = stream.owner.windowed and stream.kind != "baseline"
            ttl = stream.retention if windowed and stream.retention > 0 else MAX_WINDOW_S
            ttls[stream.group] = max(ttls[stream.group], ttl)
        return ttls

    def compile(self, needed: Mapping[str, Iterable[str]]) -> dict[str, TypePlan]:
        """Per event type: read the ``needed`` features, update every stream on that type."""
        from shopguard.events.catalog import EVENT_TYPES

        plans: dict[str, TypePlan] = {}
        for event_type in sorted(EVENT_TYPES):
            names = set(needed.get(event_type, ()))
            for stream in self.streams.values():
                if stream.gate is not None and event_type in stream.on:
                    names |= stream.gate_names  # its `where` reads them on this type
            order: list[str] = []
            for name in sorted(n for n in names if n in self.ratios):
                self._ratio_order(name, set(), order, set(order))
            ratios = [(n, *self.ratios[n]) for n in order]
            for _, num, den in ratios:
                names.update(part for part in (num, den) if part in self.specs)
            uses: dict[int, Use] = {}
            for name in sorted(names - set(self.ratios)):
                spec = self.specs.get(name)
                if spec is None:
                    raise ConfigError(f"unknown feature {name!r}")
                stream = self.feature_stream[name]
                uses.setdefault(stream.sid, Use(stream)).readers.append(spec)
            for stream in self.streams.values():
                if event_type in stream.on or event_type in stream.then:
                    uses.setdefault(stream.sid, Use(stream)).apply = True
            for use in uses.values():
                if use.apply:
                    use.fold = folder(use.stream, event_type, self.max_events, self.distinct_bound)
                    if event_type in use.stream.on:
                        use.gate = use.stream.gate
            # gated streams last: their gates read the features the others compute
            ordered = sorted(uses.values(), key=lambda use: use.gate is not None)
            plans[event_type] = TypePlan(event_type, ordered, ratios)
        return plans


class TypePlan:
    """The feature work for one event type: read before the decision, apply after it."""

    def __init__(
        self,
        event_type: str,
        uses: list[Use],
        ratios: list[tuple[str, str, str]],
    ) -> None:
        self.event_type = event_type
        self.uses = uses
        self.ratios = ratios
        # values, touched = read(facts, load): the features as of before this event,
        # and the states this event will update (generated: see reading.py).
        self.read = compile_read(event_type, uses, ratios)
        rows: dict[int, tuple[str, ...]] = {}
        for use in uses:  # the same rows, in the same order, as the generated read's
            rows.setdefault(use.stream.group, use.stream.key)
        self._rows = list(rows.items())

    def apply(self, facts: Facts, touched: Touched) -> list[tuple[StateKey, int, Any]]:
        """Fold the event into the states it touches; returns (key, slot, state) to save."""
        return fold_touched(facts, touched)

    def keys(self, facts: Facts) -> list[LoadKey]:
        """The rows ``read`` loads for this event, in its order (a batch prefetches them
        in one round trip from a shared store)."""
        return [(group, _entity(facts, key)) for group, key in self._rows]


def fold_touched(facts: Facts, touched: Touched) -> list[tuple[StateKey, int, Any]]:
    """Fold the event into the states it touches (each fold returns the state to save,
    or None when the event changes nothing); what every state store's ``fold`` runs."""
    t = facts["time"]
    saved = []
    for key, slot, state, fold in touched:
        state = fold(state, facts, t)
        if state is not None:
            saved.append((key, slot, state))
    return saved


def _entity(facts: Facts, key: tuple[str, ...]) -> str | None:
    """The entity key of a row: one fact, or a pair joined by "|" (None if one lacks)."""
    if len(key) == 1:
        return facts.get(key[0])
    a, b = facts.get(key[0]), facts.get(key[1])
    return None if a is None or b is None else f"{a}|{b}"
