"""How a feature reads a state (an expression the generated reads are made of) and how
an event folds into one (small closures chosen once at load), so the per-event code does
no dispatching on kinds. Each kind says both (features/kinds/); this is their one door."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopguard.features.kinds import KINDS
from shopguard.features.kinds.base import Facts, Fold
from shopguard.features.kinds.baseline import stream_alpha
from shopguard.features.spec import FeatureSpec

if TYPE_CHECKING:
    from shopguard.features.plan import Stream

__all__ = ["Facts", "Fold", "blank", "folder", "read_expression", "stream_alpha"]


def blank(spec: FeatureSpec) -> Any:
    """The value of ``spec`` for a key with no state yet (a literal: 0, 0.0, None, False)."""
    return KINDS[spec.kind].blank


def read_expression(spec: FeatureSpec, state: str) -> str:
    """The Python expression reading ``spec`` from the non-empty state named ``state`` at
    time ``t``: the generated reads (reading.py) are made of these."""
    return KINDS[spec.kind].read(spec, state)


def folder(stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
    """The function that folds one event of ``event_type`` into one state of ``stream``,
    specialised once at load so the per-event loop does no dispatching."""
    return stream.owner.fold(stream, event_type, max_events, bound)
