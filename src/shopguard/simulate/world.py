"""The honest world: shoppers with their own devices, phones, cards and networks.

Households share a device or a Wi-Fi IP, office workers share a NAT address in working
hours, students share a campus network; a small share of honest shoppers use
virtual-operator numbers or rooted phones too, so rules are measured against real noise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MOBILE_UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; SM-S9180) AppleWebKit/537.36 Chrome/122.0 Mobile",
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 Chrome/118.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/123.0 Safari/537.36",
)
HONEST_SEGMENTS = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "199",
)
VIRTUAL_SEGMENTS = ("170", "171", "162", "165", "167")
# Shopping intensity by hour of day (local time): quiet nights, lunch and evening peaks.
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 10, 11, 9, 8, 8, 8, 9, 10, 12, 13, 12, 8, 4)


@dataclass(slots=True)
class Shopper:
    account: str
    device: str
    phone: str
    ip: str
    card: str
    address: str
    user_agent: str
    rooted: bool
    registered: bool  # False: joins during the simulation (sign-up, new-user gift)


def random_ip(rng: random.Random) -> str:
    a, b, c = rng.randrange(36, 223), rng.randrange(256), rng.randrange(256)
    return f"{a}.{b}.{c}.{rng.randrange(1, 255)}"


def phone(rng: random.Random, virtual: bool = False) -> str:
    segment = rng.choice(VIRTUAL_SEGMENTS if virtual else HONEST_SEGMENTS)
    return f"{segment}{rng.randrange(10**8):08d}"


def card(rng: random.Random) -> str:
    bin_ = rng.choice(("622202", "622848", "621700", "436742", "524031"))
    return f"{bin_}{rng.randrange(10**10):010d}"


def address(rng: random.Random, n: int) -> str:
    road = rng.choice(("Renmin", "Zhongshan", "Jiefang", "Heping"))
    return f"{rng.randrange(1, 300)} {road} Rd, Bldg {n % 97}, Room {rng.randrange(101, 2999)}"


def population(rng: random.Random, size: int, new_share: float) -> list[Shopper]:
    """``size`` shoppers; ``new_share`` of them register during the simulation."""
    offices = [random_ip(rng) for _ in range(max(1, size // 150))]
    campuses = [random_ip(rng).rsplit(".", 1)[0] for _ in range(max(1, size // 2000))]
    shoppers: list[Shopper] = []
    for i in range(size):
        roll = rng.random()
        if shoppers and roll < 0.25:  # household: share the Wi-Fi, sometimes the tablet
            mate = shoppers[-1]
            ip, device = mate.ip, mate.device if rng.random() < 0.3 else f"fp-{i}"
            home = mate.address
        else:
            ip, device, home = random_ip(rng), f"fp-{i}", address(rng, i)
            if roll < 0.35:
                ip = rng.choice(offices)
            elif roll < 0.40:
                ip = f"{rng.choice(campuses)}.{rng.randrange(1, 255)}"
        shoppers.append(
            Shopper(
                account=f"u{i}",
                device=device,
                phone=phone(rng, virtual=rng.random() < 0.02),
                ip=ip,
                card=card(rng),
                address=home,
                user_agent=rng.choice(MOBILE_UAS),
                rooted=rng.random() < 0.01,
                registered=rng.random() >= new_share,
            )
        )
    return shoppers
