"""Live traffic for `shopguard demo`: honest sessions and one campaign of every attack,
timed around now instead of over a simulated week.

The week-long simulation spreads a few campaigns of each attack over seven days, so a
ten-minute window of it holds almost none. Here each attack runs once, at its own pace,
with its first harm placed within the first two minutes (staggered, so the stream shows
one attack after another), over honest sessions at the asked rate. Nothing is sped up: the
events keep the gaps the generators give them. What an attack did before its first harm
(an aged ring's weeks of looking honest) keeps its distance too, so it lies in the past.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from shopguard.simulate.attacks import ATTACKS
from shopguard.simulate.sessions import session, who
from shopguard.simulate.simulator import HONEST, Truth
from shopguard.simulate.world import model_of, population

DAY = 86400.0
# Where "now" falls in the generators' simulated time: a weekday's midday, days in, so the
# aged rings have their history before it.
ANCHOR = 3 * DAY + 12 * 3600
LEAD = 10.0  # seconds from the start to the first attack's first harm
STAGGER = 6.0  # between attacks' first harms: all sixteen within the first two minutes
# Honest traffic began this long before the start, at the same rate: the tenant-wide
# ten-minute baselines and the known devices are those of a site that was running, and the
# chart of the last hour is full at once. (Hourly baselines warm up over three closed
# windows: for the first hour and a half of a demo they are still missing, as on a new
# site; a longer past costs the backfill, which runs before the console opens.)
HISTORY = 1.5 * 3600.0
PAST = 14  # days back to a regular's earlier visit (one page view, backfilled)
SESSION_EVENTS = 5.0  # about this many events per honest session (measured on the generator)
VISITS = 1.25  # honest sessions per shopper in the window, on average: few come back in hours
NEW_SHARE = 0.03  # of the shoppers sign up in the window
ATTACK_SHARE = 0.1  # each campaign at this share of the week simulation's size, at 5/s


class Timed(NamedTuple):
    offset: float  # seconds from the demo's start; negative: before it
    fields: dict[str, Any]  # the event without event_id, tenant and time
    truth: Truth


def live(seconds: float, rate: float, seed: int = 7) -> list[Timed]:
    """About ``rate`` honest events a second from ``HISTORY`` before the start to
    ``seconds`` after it, and every attack once, in time order; events past ``seconds``
    are cut."""
    rng = random.Random(seed)
    detail = random.Random(f"{seed}:detail")
    sessions = max(20, round(rate * (HISTORY + seconds) / SESSION_EVENTS))
    shoppers = population(rng, max(10, round(sessions / VISITS)), NEW_SHARE, detail)
    starts = sorted(rng.uniform(-HISTORY, seconds) for _ in range(sessions))
    timed: list[Timed] = []
    for shopper in shoppers:  # a regular has been here before: its IP is no stranger
        if shopper.registered:
            seen = rng.uniform(-PAST * DAY, -HISTORY)
            timed.append(Timed(seen, {"type": "http.request", "path": "/", **who(shopper)}, HONEST))
    for start in starts:  # in time order: a shopper's sign-up comes before its visits
        for t, fields in session(rng, rng.choice(shoppers), ANCHOR + start):
            timed.append(Timed(t - ANCHOR, fields, HONEST))
    scale = ATTACK_SHARE * max(rate, 1.0) / 5
    for k, (name, attack) in enumerate(ATTACKS.items()):
        start = ANCHOR if not attack.aged_days else max(ANCHOR, attack.aged_days * DAY + 12 * 3600)
        raw = list(attack.generate(rng, start, max(1, round(attack.size * scale)), False))
        harms = [t for t, fields in raw if fields["type"] in attack.harm]
        shift = LEAD + k * STAGGER - min(harms or [t for t, _ in raw])
        for t, fields in raw:
            stake = fields.pop("_stake", 0.0)  # ground truth only: never sent as event
            model_of(fields)
            timed.append(Timed(t + shift, fields, Truth(1, name, stake)))
    timed = [item for item in timed if item.offset < seconds]
    timed.sort(key=lambda item: item.offset)
    return timed
