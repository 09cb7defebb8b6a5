"""What every feature kind provides: check its spec, find or make the stream (the shared
state) it reads, make that state, fold an event into it, read it, and its value for a
key never seen. The plan, the generated reads and the folds only call these."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shopguard.desensitize.schema import NUM
from shopguard.errors import ConfigError

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec

Facts = dict[str, Any]
Fold = Callable[[Any, Facts, float], Any]
Filter = Callable[[Mapping[str, Any]], Any]
MAX_WINDOW_S = 90 * 86400


class Kind:
    """One kind of feature. Kinds keeping the same kind of state (``state``) subclass one
    family class, which makes the state and folds events into it; each kind says how it
    is read. ``state`` empty: derived from other values, no state (ratio)."""

    def __init__(
        self,
        name: str,
        state: str,
        blank: Any = None,
        windowed: bool = False,
        type: str = NUM,
        keyed: bool = True,
    ) -> None:
        self.name = name
        self.state = state
        self.blank = blank  # the value for a key with no state yet: a literal
        self.windowed = windowed
        self.type = type  # what rules see: num or bool
        self.keyed = keyed  # False: computed from other values, no key of its own

    # --- load time -------------------------------------------------------------------

    def validate(self, spec: FeatureSpec, where: str) -> None:
        """The checks of this kind, after the common ones (name, key, event types)."""
        self.check_sources(spec, where)
        if self.windowed:
            if not spec.window:
                raise ConfigError("needs a window", where)
            if not 0 < spec.window_s <= MAX_WINDOW_S:
                raise ConfigError("window must be between 1s and 90d", where)
        self.check(spec, where)

    def check_sources(self, spec: FeatureSpec, where: str) -> None:
        """Which events feed it: ``on`` unless the kind reads a sequence (first/then)."""
        if not spec.on:
            raise ConfigError("needs `on`: the event types it aggregates", where)

    def check(self, spec: FeatureSpec, where: str) -> None:
        """The fields only this kind needs."""

    def bind(
        self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str
    ) -> Stream | None:
        """The stream ``spec`` reads (shared with specs of the same state, key, events and
        filter), widened to what ``spec`` needs; ``filt`` is the compiled filter. None:
        the kind keeps no state."""
        raise NotImplementedError(self.name)

    def read(self, spec: FeatureSpec, state: str) -> str:
        """The Python expression reading ``spec`` from the non-empty state named ``state``
        at time ``t``: the generated reads (reading.py) are made of these."""
        raise NotImplementedError(self.name)

    # --- the state family ------------------------------------------------------------

    def factory(self, stream: Stream) -> Callable[[], Any]:
        """Makes an empty state of ``stream``."""
        raise NotImplementedError(self.name)

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        """The function folding one event of ``event_type`` into one state of ``stream``
        (``None`` for none yet); it returns the state to save, or None when the event
        changes nothing. Specialised once at load so the per-event loop does no
        dispatching."""
        raise NotImplementedError(self.name)
