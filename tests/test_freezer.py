"""gc_freeze_every must not keep the host's garbage for good (issue 13, hole 10): an HTTP
server's requests in flight when a freeze falls die later in reference cycles."""

from __future__ import annotations

import gc
import weakref

from shopguard.freezer import FREEZER, Freezer
from tests.conftest import event, make_engine


class Request:
    """A host object in a reference cycle, as a finished request's task and frames are."""

    def __init__(self) -> None:
        self.cycle = self


def test_requests_frozen_in_flight_are_collected_once_frozen_objects_grow_a_quarter() -> None:
    freezer = Freezer()
    alive: weakref.WeakSet[Request] = weakref.WeakSet()
    rounds, in_flight = 300, 2000
    try:
        for _ in range(rounds):
            batch = [Request() for _ in range(in_flight)]
            alive.update(batch)
            freezer.freeze()  # the engine freezes mid-batch, requests still in flight
            del batch  # they are answered: garbage, but frozen
        # a quarter of the frozen objects, plus what froze between two looks at the growth
        assert len(alive) <= freezer.growth * freezer.baseline + freezer.check_every * in_flight
        assert len(alive) < rounds * in_flight / 4
        assert freezer.collections >= 2
    finally:
        gc.unfreeze()
        gc.collect()


def test_a_steady_state_without_garbage_needs_no_full_collection() -> None:
    freezer = Freezer()
    kept = [Request() for _ in range(1000)]
    try:
        for _ in range(freezer.check_every):  # the first look at the growth collects once
            freezer.freeze()
        first = freezer.collections
        for _ in range(50 * freezer.check_every):
            freezer.freeze()
        assert freezer.collections == first
    finally:
        del kept
        gc.unfreeze()
        gc.collect()


def test_an_engine_serving_requests_does_not_keep_them_frozen() -> None:
    """The exploit as the server met it: requests in flight while the engine decides and
    freezes (gc_freeze_every), answered afterwards, are freed all the same."""
    engine = make_engine(gc_freeze_every=1)
    alive: weakref.WeakSet[Request] = weakref.WeakSet()
    events, in_flight = 300, 2000
    try:
        for i in range(events):
            batch = [Request() for _ in range(in_flight)]
            alive.update(batch)
            engine.decide(event("account.login", f"l{i}", i, account=f"a{i % 7}", success=True))
            del batch
        bound = FREEZER.growth * FREEZER.baseline + FREEZER.check_every * in_flight
        assert len(alive) <= bound
        assert len(alive) < events * in_flight / 4
    finally:
        gc.unfreeze()
        gc.collect()
