"""Login lockout: failures counted per user name and per client address, in memory (one
process serves the console), each further try past the allowance refused for a wait that
doubles with every failure.

A try is counted as failed when it starts and forgiven when it succeeds, so a burst of
concurrent guesses is counted in full before any scrypt has finished. A refused try
costs no hashing and does not lengthen the wait. The tables are bounded: past ``SIZE``
entries the least recently touched is forgotten.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from shopguard.api.limits import Limits

SIZE = 65_536
_NAME_BYTES = 256  # longer names share an entry: a name cannot buy a fresh allowance


class _Tally:
    __slots__ = ("failures", "last", "until")

    def __init__(self) -> None:
        self.failures, self.until, self.last = 0, 0.0, 0.0


class LoginThrottle:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = clock
        self._names: OrderedDict[str, _Tally] = OrderedDict()
        self._addresses: OrderedDict[str, _Tally] = OrderedDict()

    def attempt(self, name: str, address: str) -> float:
        """0 and the try is counted, or the seconds to wait before trying again."""
        now = self._now()
        by_name = self._tally(self._names, name[:_NAME_BYTES], now)
        by_address = self._tally(self._addresses, address, now)
        wait = max(by_name.until, by_address.until) - now
        if wait > 0:
            return wait
        self._count(by_name, self.limits.login_failures, now)
        self._count(by_address, self.limits.login_failures_per_address, now)
        return 0.0

    def succeeded(self, name: str) -> None:
        """Forgive the name's failures (not the address's: one account of one's own must
        not reset the guessing of others' from the same place)."""
        self._names.pop(name[:_NAME_BYTES], None)

    def _tally(self, table: OrderedDict[str, _Tally], key: str, now: float) -> _Tally:
        tally = table.get(key)
        if tally is None or now - max(tally.last, tally.until) > self.limits.login_lockout_max:
            tally = table[key] = _Tally()
            if len(table) > SIZE:
                table.popitem(last=False)
        table.move_to_end(key)
        return tally

    def _count(self, tally: _Tally, allowed: int, now: float) -> None:
        tally.failures += 1
        tally.last = now
        beyond = tally.failures - allowed
        if beyond >= 0:
            wait = self.limits.login_lockout * 2.0 ** min(beyond, 32)
            tally.until = now + min(wait, self.limits.login_lockout_max)
