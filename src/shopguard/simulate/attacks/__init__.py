"""Attacks, each described by behaviour: who acts, from what, how fast, how often.

Every generator yields ``(time, event fields)`` for one campaign of the attack starting
near ``start``; ``size`` scales it. ``careful`` makes it look more like honest traffic
and draws the campaign's habits from ``rng`` (rates, pool sizes, which links leak), so
no fixed signature exists. None of this knows what any rule looks for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import NamedTuple

from shopguard.simulate.attacks.accounts import (
    coupon_bug,
    credential_stuffing,
    flashsale_bots,
    lottery_bots,
    wool_party,
)
from shopguard.simulate.attacks.aged import coupon_rush, scalpers
from shopguard.simulate.attacks.common import Raw
from shopguard.simulate.attacks.farms import proxy_wool_farm
from shopguard.simulate.attacks.messaging import sms_bombing, sms_pumping, sms_pumping_intl
from shopguard.simulate.attacks.payments import fake_orders, stolen_cards
from shopguard.simulate.attacks.physical import cabinet_theft, counterfeit_codes
from shopguard.simulate.attacks.reviews import fake_reviews
from shopguard.simulate.attacks.web import crawler

AttackFn = Callable[[random.Random, float, int, bool], Iterator[Raw]]


class Attack(NamedTuple):
    generate: AttackFn
    size: int  # events (harm events for the ring attacks) of one campaign at 1M events
    harm: frozenset[str]  # the event types where the damage is done: stop it there
    aged_days: int = 0  # the ring's accounts act only after this many days of history
    # False: only when asked for by name (simulate(attacks=...)), so the traffic of every
    # seed drawn before it existed stays what it was (and the reports made on it)
    default: bool = True


ATTACKS: dict[str, Attack] = {
    "wool_party": Attack(wool_party, 300, frozenset({"promo.claim"})),
    "coupon_bug": Attack(coupon_bug, 1500, frozenset({"promo.redeem"})),
    "sms_bombing": Attack(sms_bombing, 60, frozenset({"sms.send"})),
    "sms_pumping": Attack(sms_pumping, 400, frozenset({"sms.send"})),
    "credential_stuffing": Attack(credential_stuffing, 1500, frozenset({"account.login"})),
    "stolen_cards": Attack(stolen_cards, 120, frozenset({"payment"})),
    "crawler": Attack(crawler, 4000, frozenset({"http.request"})),
    # Goods leave when the door closes: the session's verdict decides whether they are
    # billed as measured (and the account blocked until paid) or as the app says.
    "cabinet_theft": Attack(cabinet_theft, 40, frozenset({"cabinet.session"})),
    "flashsale_bots": Attack(flashsale_bots, 400, frozenset({"flashsale.order"})),
    "lottery_bots": Attack(lottery_bots, 600, frozenset({"lottery.draw"})),
    "fake_orders": Attack(fake_orders, 150, frozenset({"order.create", "refund"})),
    "counterfeit_codes": Attack(counterfeit_codes, 60, frozenset({"product.verify"})),
    # Rings written from public accounts of how they operate (issue 14).
    "proxy_wool_farm": Attack(
        proxy_wool_farm, 150, frozenset({"promo.claim", "promo.redeem", "payment"})
    ),
    "coupon_rush": Attack(coupon_rush, 300, frozenset({"promo.redeem"}), aged_days=3),
    "sms_pumping_intl": Attack(sms_pumping_intl, 600, frozenset({"sms.send"})),
    "scalpers": Attack(scalpers, 80, frozenset({"flashsale.order"}), aged_days=3),
    # With honest reviews in the world (simulate/reviews.py) when it is asked for.
    "fake_reviews": Attack(fake_reviews, 120, frozenset({"review.post"}), default=False),
}
