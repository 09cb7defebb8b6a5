"""Attacks, each described by behaviour: who acts, from what, how fast, how often.

Every generator yields ``(time, event fields)`` for one campaign of the attack starting
near ``start``; ``size`` scales it and ``careful`` slows it down and makes it look more
like honest traffic. None of this knows what any rule looks for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from shopguard.simulate.attacks.accounts import (
    coupon_bug,
    credential_stuffing,
    flashsale_bots,
    lottery_bots,
    wool_party,
)
from shopguard.simulate.attacks.common import Raw
from shopguard.simulate.attacks.messaging import sms_bombing, sms_pumping
from shopguard.simulate.attacks.payments import fake_orders, stolen_cards
from shopguard.simulate.attacks.physical import cabinet_theft, counterfeit_codes
from shopguard.simulate.attacks.web import crawler

AttackFn = Callable[[random.Random, float, int, bool], Iterator[Raw]]
ATTACKS: dict[str, tuple[AttackFn, int]] = {  # name -> (generator, default size)
    "wool_party": (wool_party, 300),
    "coupon_bug": (coupon_bug, 1500),
    "sms_bombing": (sms_bombing, 60),
    "sms_pumping": (sms_pumping, 400),
    "credential_stuffing": (credential_stuffing, 1500),
    "stolen_cards": (stolen_cards, 120),
    "crawler": (crawler, 4000),
    "cabinet_theft": (cabinet_theft, 40),
    "flashsale_bots": (flashsale_bots, 400),
    "lottery_bots": (lottery_bots, 600),
    "fake_orders": (fake_orders, 150),
    "counterfeit_codes": (counterfeit_codes, 60),
}
