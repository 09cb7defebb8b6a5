"""Snapshots as data: feature state, the link graph and the dedupe window in msgpack,
never a pickle.

Decoding a snapshot can only build the state classes' plain fields (floats, ints,
strings, byte strings of float arrays): no code runs, whatever the bytes. Each state kind
is an array-like tagged struct, so the encoding is the same from the pure and the
compiled build (setup.py) and says nothing about the classes' memory layout. Keys stay
generic: per tenant, per key group, (entity key, row of states).

The blob is ``FORMAT || SHA-256(payload) || payload``; the SQLite log also MACs it with
the audit key. A blob that fails any check raises ``SnapshotError`` naming why, and the
engine rebuilds its state from the journal instead.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from typing import Any

import msgspec

from shopguard.features.baseline import RateBaseline
from shopguard.features.distinct import REGISTERS, DistinctSeries, SlidingHLL
from shopguard.features.kinds.runs import ActivityRun
from shopguard.features.outstanding import Outstanding
from shopguard.features.sequence import PendingSeries
from shopguard.features.series import EventSeries

FORMAT = b"SGS\x02"
Member = bool | int | float | str  # a distinct set's values: fact values
Number = int | float


class Series(msgspec.Struct, array_like=True, tag=1):
    first: float
    last: float
    times: bytes | None
    cums: bytes | None
    vals: bytes | None
    base: float


class Distinct(msgspec.Struct, array_like=True, tag=2):
    members: list[Member] | None  # exact: in insertion order, with ``times`` beside them
    times: bytes | None
    registers: list[list[tuple[float, int]] | None] | None  # sketched


class Baseline(msgspec.Struct, array_like=True, tag=3):
    bucket: int
    count: int
    ewma: float
    seen: int


class Owed(msgspec.Struct, array_like=True, tag=4):
    items: list[tuple[str, float, Number]]


class Pending(msgspec.Struct, array_like=True, tag=5):
    pending: bytes


class Run(msgspec.Struct, array_like=True, tag=6):
    last: float
    start: float
    silence: float


State = Series | Distinct | Baseline | Owed | Pending | Run
Groups = list[list[tuple[str, list[State | None]]]]
Rows = list[tuple[str, Groups]]  # per tenant


class Envelope(msgspec.Struct, array_like=True):
    fingerprint: str
    seq: int
    state: bytes  # the state store's own snapshot
    seen: list[tuple[str, int]]  # the dedupe window: key -> seq
    order: list[tuple[str, list[tuple[float, list[str]]]]]  # per tenant, its expiry order
    spilled: list[tuple[str, float]] = []  # per tenant, ids let go early until then
    links: bytes = b""  # the link graph (shopguard.links.persist)


class SnapshotError(ValueError):
    """A snapshot that cannot be used; the message says why."""


_encoder = msgspec.msgpack.Encoder()
_rows = msgspec.msgpack.Decoder(Rows)
_envelope = msgspec.msgpack.Decoder(Envelope)
_SWAP = sys.byteorder != "little"  # stored little-endian whatever the host


def _floats(values: array[float] | None) -> bytes | None:
    if values is None:
        return None
    if _SWAP:
        values = array("d", values)
        values.byteswap()
    return values.tobytes()


def _array(raw: bytes | None) -> array[float] | None:
    if raw is None:
        return None
    if len(raw) % 8:
        raise SnapshotError("a float array of odd length")
    values = array("d", raw)
    if _SWAP:
        values.byteswap()
    return values


def encode_state(state: Any) -> State:
    if isinstance(state, EventSeries):
        times, cums, vals = (_floats(a) for a in (state.times, state.cums, state.vals))
        return Series(state.first, state.last, times, cums, vals, state.base)
    if isinstance(state, DistinctSeries):
        if state.sketch is not None:
            return Distinct(None, None, state.sketch.regs)
        seen = state.seen or {}
        return Distinct(list(seen), _floats(array("d", seen.values())), None)
    if isinstance(state, RateBaseline):
        return Baseline(state.bucket, state.count, state.ewma, state.seen)
    if isinstance(state, Outstanding):
        return Owed([(item, when, amount) for item, (when, amount) in state.items.items()])
    if isinstance(state, PendingSeries):
        return Pending(_floats(state.pending) or b"")
    if isinstance(state, ActivityRun):
        return Run(state.last, state.start, state.silence)
    raise TypeError(f"no snapshot encoding for {type(state).__name__}")


def decode_state(data: State) -> Any:
    if isinstance(data, Series):
        series = EventSeries()
        times, cums, vals = _array(data.times), _array(data.cums), _array(data.vals)
        n = len(times) if times is not None else 0
        if any(a is not None and (times is None or len(a) != n) for a in (cums, vals)):
            raise SnapshotError("a series' sums or values do not match its times")
        series.first, series.last, series.base = data.first, data.last, data.base
        series.times, series.cums, series.vals = times, cums, vals
        return series
    if isinstance(data, Distinct):
        distinct = DistinctSeries()
        if data.registers is not None:
            if len(data.registers) != REGISTERS:
                raise SnapshotError("a sketch with the wrong number of registers")
            sketch = SlidingHLL()
            sketch.regs = data.registers
            distinct.seen, distinct.sketch = None, sketch
        else:
            times = _array(data.times) or array("d")
            if data.members is None or len(data.members) != len(times):
                raise SnapshotError("a distinct set's members do not match their times")
            distinct.seen = dict(zip(data.members, times, strict=True))
        return distinct
    if isinstance(data, Baseline):
        baseline = RateBaseline()
        baseline.bucket, baseline.count = data.bucket, data.count
        baseline.ewma, baseline.seen = data.ewma, data.seen
        return baseline
    if isinstance(data, Owed):
        owed = Outstanding()
        owed.items = {item: (when, amount) for item, when, amount in data.items}
        return owed
    if isinstance(data, Run):
        run = ActivityRun()
        run.last, run.start, run.silence = data.last, data.start, data.silence
        return run
    pending = PendingSeries()
    pending.pending = _array(data.pending) or array("d")
    return pending


def encode_rows(tenants: dict[str, list[dict[str, list[Any]]]]) -> bytes:
    """A state store's rows (per tenant, per key group: entity key -> row of states)."""
    rows: Rows = [
        (
            tenant,
            [
                [
                    (key, [None if s is None else encode_state(s) for s in row])
                    for key, row in g.items()
                ]
                for g in groups
            ],
        )
        for tenant, groups in tenants.items()
    ]
    return _encoder.encode(rows)


def decode_rows(blob: bytes, widths: list[int] | None) -> dict[str, list[dict[str, list[Any]]]]:
    """The rows back, checked against the store's layout (row widths per key group; None:
    only decode them)."""
    try:
        rows = _rows.decode(blob)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"state undecodable: {exc}") from None
    out: dict[str, list[dict[str, list[Any]]]] = {}
    for tenant, groups in rows:
        if widths is not None and len(groups) != len(widths):
            raise SnapshotError(f"{len(groups)} key groups, the layout has {len(widths)}")
        tables: list[dict[str, list[Any]]] = []
        for i, group in enumerate(groups):
            table: dict[str, list[Any]] = {}
            width = None if widths is None else widths[i]
            for key, row in group:
                if width is not None and len(row) != width:
                    raise SnapshotError(f"a row of {len(row)} states where the layout has {width}")
                table[key] = [None if s is None else decode_state(s) for s in row]
            tables.append(table)
        out[tenant] = tables
    return out


def pack(envelope: Envelope) -> bytes:
    payload = _encoder.encode(envelope)
    return FORMAT + hashlib.sha256(payload).digest() + payload


def unpack(blob: bytes) -> Envelope:
    if blob[:4] != FORMAT:
        raise SnapshotError("not a snapshot of this format (an older build's, or forged)")
    checksum, payload = blob[4:36], blob[36:]
    if hashlib.sha256(payload).digest() != checksum:
        raise SnapshotError("checksum mismatch (corrupted)")
    try:
        return _envelope.decode(payload)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"undecodable: {exc}") from None
