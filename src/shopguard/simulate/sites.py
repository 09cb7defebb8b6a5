"""Where honest shoppers live and work, and what that makes them share.

A family shares its address and Wi-Fi and sometimes one card; colleagues share the
office's NAT address, many ship to the office (each typing it their own way) and some
carry company numbers bought as one block; students share a campus network, four to a
dorm room. Shoppers also carry e-mails, handset models and, for travellers and foreign
residents, foreign numbers: the links rings leave exist in honest traffic too.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING

from shopguard.simulate.addresses import ROADS, Place, write

if TYPE_CHECKING:
    from shopguard.simulate.world import Shopper

DEVICE_MODELS = (
    "iPhone15,2",
    "iPhone14,5",
    "SM-S9180",
    "V2219A",
    "PJD110",
    "22081212C",
    "M2012K11AC",
    "ALN-AL00",
    "NOH-AN00",
    "PGT-AN10",
)
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com")
MAIL_WEIGHTS = (40, 20, 8, 8, 6, 5)
# Foreign mobile ranges of travellers and residents (some are ranges pumpers use too),
# with the digits that follow the range.
FOREIGN_RANGES = (
    ("+1 646", 7),
    ("+44 7700", 6),
    ("+81 90", 8),
    ("+82 10", 8),
    ("+65 9", 7),
    ("+852 6", 7),
    ("+63 917", 7),
    ("+62 812", 8),
    ("+7 916", 7),
    ("+61 4", 8),
)
NAMES = ("wei", "fang", "lily", "jun", "ming", "xiaoyu", "chen", "tom", "hui", "lei", "yan")


def mailbox(rng: random.Random, domain: str | None = None) -> str:
    """An address a person chose: a QQ number, a name with a year, initials and digits."""
    domain = domain or rng.choices(MAIL_DOMAINS, weights=MAIL_WEIGHTS)[0]
    style = rng.random()
    if domain == "qq.com" and style < 0.7:
        local = str(rng.randrange(10**5, 10**10))
    elif style < 0.5:
        local = f"{rng.choice(NAMES)}{rng.choice(('', '.', '_'))}{rng.choice(NAMES)}"
        local += str(rng.randrange(1970, 2008)) if rng.random() < 0.5 else ""
    else:
        local = "".join(rng.choices(string.ascii_lowercase, k=rng.randrange(2, 5)))
        local += str(rng.randrange(1, 10 ** rng.randrange(1, 5)))
    return f"{local}@{domain}"


def foreign_number(rng: random.Random) -> str:
    prefix, digits = rng.choice(FOREIGN_RANGES)
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"


class Sites:
    """The offices and campuses of one population, filled as shoppers are settled."""

    def __init__(self, rng: random.Random, offices: list[str], campuses: list[str]) -> None:
        self.rng = rng
        roads = tuple(ROADS)
        self.offices = {
            ip: (
                Place(
                    rng.randrange(1, 600),
                    rng.choice(roads),
                    rng.randrange(1, 9),
                    rng.randrange(3, 30) * 100 + 1,
                ),
                f"corp{k}.com.cn",
                "",
            )
            for k, ip in enumerate(offices)
        }
        self.campuses = {
            net: Place(rng.randrange(1, 300), rng.choice(roads), 0, 0) for net in campuses
        }
        self.rooms: dict[str, tuple[Place, int]] = {}  # a campus's room being filled

    def settle(self, s: Shopper, mate: Shopper | None) -> None:
        rng = self.rng
        s.model = rng.choice(DEVICE_MODELS)
        if mate is not None and rng.random() < 0.3:  # the family card
            s.card = mate.card
        office = self.offices.get(s.ip)
        if office is not None and mate is None:
            place, domain, block = office
            if rng.random() < 0.4:
                s.place, s.address = place, write(place, rng if rng.random() < 0.5 else None)
            if rng.random() < 0.15:  # a company number: the block the company bought
                if not block:
                    block = s.phone[:-3]
                    self.offices[s.ip] = (place, domain, block)
                s.phone = f"{block}{rng.randrange(1000):03d}"
            if rng.random() < 0.3:
                s.email = mailbox(rng, domain)
        net = s.ip.rsplit(".", 1)[0]
        if mate is None and net in self.campuses:
            s.place = self._bed(net)
            s.address = write(s.place, rng if rng.random() < 0.6 else None)
        if s.email is None and rng.random() < 0.35:
            s.email = mailbox(rng)
        if rng.random() < 0.015:
            s.phone = foreign_number(rng)

    def _bed(self, net: str) -> Place:
        room, taken = self.rooms.get(net, (None, 4))
        if room is None or taken >= 4:
            campus = self.campuses[net]
            room = campus._replace(
                building=self.rng.randrange(1, 40), room=self.rng.randrange(101, 640)
            )
            taken = 0
        self.rooms[net] = (room, taken + 1)
        return room
