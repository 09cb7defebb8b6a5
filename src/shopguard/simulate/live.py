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
from shopguard.simulate.sessions import session
from shopguard.simulate.simulator import HONEST, Truth
from shopguard.simulate.world import model_of, population

DAY = 86400.0
# Where "now" falls in the generators' simulated time: a weekday's midday, days in, so the
# aged rings have their history before it.
ANCHOR = 3 * DAY + 12 * 3600
LEAD = 10.0  # seconds from the start to the first attack's first harm
STAGGER = 6.0  # between attacks' first harms: all sixteen within the first two minutes
BACKLOG = 300.0  # honest sessions began up to this long ago: the charts have a past at once
PAST = 3  # days of regulars' earlier visits, backfilled before the demo starts
SESSION_EVENTS = 5.0  # about this many events per honest session (measured on the generator)
ATTACK_SHARE = 0.1  # each campaign at this share of the week simulation's size, at 20/s


class Timed(NamedTuple):
    offset: float  # seconds from the demo's start; negative: before it
    fields: dict[str, Any]  # the event without event_id, tenant and time
    truth: Truth


def live(seconds: float, rate: float, seed: int = 7) -> list[Timed]:
    """About ``rate`` honest events a second from ``BACKLOG`` before the start to
    ``seconds`` after it, and every attack once, in time order; events past ``seconds``
    are cut."""
    rng = random.Random(seed)
    detail = random.Random(f"{seed}:detail")
    span = BACKLOG + seconds
    sessions = max(20, round(rate * span / SESSION_EVENTS))
    shoppers = population(rng, sessions, new_share=0.1, detail=detail)
    timed: list[Timed] = []
    for shopper in shoppers:
        if shopper.registered:  # a regular has been here before: its devices, IPs and
            # the site's usual rates are known, as they are on a real site's first demo day
            for _ in range(rng.randrange(1, 3)):
                past = rng.uniform(-PAST * DAY, -3600)
                for t, fields in session(rng, shopper, ANCHOR + past):
                    timed.append(Timed(t - ANCHOR, fields, HONEST))
        start = rng.uniform(-BACKLOG, seconds)
        for t, fields in session(rng, shopper, ANCHOR + start):
            timed.append(Timed(t - ANCHOR, fields, HONEST))
    scale = ATTACK_SHARE * max(rate, 1.0) / 20
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
