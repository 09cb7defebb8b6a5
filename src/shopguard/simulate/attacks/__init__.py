"""Attacks, each described by behaviour: who acts, from what, how fast, how often.

Every generator yields ``(time, event fields)`` for one campaign of the attack starting
near ``start``; ``size`` scales it and ``careful`` slows it down and makes it look more
like honest traffic. None of this knows what any rule looks for.
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
from shopguard.simulate.attacks.common import Raw
from shopguard.simulate.attacks.messaging import sms_bombing, sms_pumping
from shopguard.simulate.attacks.payments import fake_orders, stolen_cards
from shopguard.simulate.attacks.physical import cabinet_theft, counterfeit_codes
from shopguard.simulate.attacks.web import crawler

AttackFn = Callable[[random.Random, float, int, bool], Iterator[Raw]]


class Attack(NamedTuple):
    generate: AttackFn
    size: int  # events of one campaign at 1M simulated events
    harm: frozenset[str]  # the event types where the damage is done: stop it there


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
}
