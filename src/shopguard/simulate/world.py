"""The honest world: shoppers with their own devices, phones, cards and networks.

Households share a device, a Wi-Fi IP, an address and sometimes a card; office workers
share a NAT address, often ship to the office and some carry company numbers from one
block; students share a campus network and dorm rooms; a small share of honest shoppers
use virtual-operator numbers, foreign numbers or rooted phones, so rules are measured
against real noise (see ``sites`` for who shares what).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from shopguard.simulate.addresses import Place, random_place, write
from shopguard.simulate.sites import DEVICE_MODELS, Sites

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
SALE_HOUR = 20  # the daily flash sale opens at 20:00
SPRING_DISCOUNT = 15.0  # the spring-sale campaign's usual coupon, in yuan
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
    place: Place | None = None  # where ``address`` is, to type it another way sometimes
    email: str | None = None
    model: str | None = None
    gift: bool = False  # holds an unspent new-user gift


def random_ip(rng: random.Random) -> str:
    a, b, c = rng.randrange(36, 223), rng.randrange(256), rng.randrange(256)
    return f"{a}.{b}.{c}.{rng.randrange(1, 255)}"


def phone(rng: random.Random, virtual: bool = False) -> str:
    segment = rng.choice(VIRTUAL_SEGMENTS if virtual else HONEST_SEGMENTS)
    return f"{segment}{rng.randrange(10**8):08d}"


def card(rng: random.Random) -> str:
    bin_ = rng.choice(("622202", "622848", "621700", "436742", "524031"))
    return f"{bin_}{rng.randrange(10**10):010d}"


def address(rng: random.Random, n: int) -> tuple[Place, str]:
    place = random_place(rng, building=n % 97)
    return place, write(place)


def population(
    rng: random.Random, size: int, new_share: float, detail: random.Random
) -> list[Shopper]:
    """``size`` shoppers; ``new_share`` of them register during the simulation. ``rng``
    draws what the world has always had (so attack traffic keeps its seeds); ``detail``
    the rest: shared family cards, office and dorm addresses, company phone blocks,
    e-mails, device models, foreign numbers."""
    offices = [random_ip(rng) for _ in range(max(1, size // 150))]
    campuses = [random_ip(rng).rsplit(".", 1)[0] for _ in range(max(1, size // 2000))]
    sites = Sites(detail, offices, campuses)
    shoppers: list[Shopper] = []
    for i in range(size):
        roll = rng.random()
        place: Place | None
        if shoppers and roll < 0.25:  # household: share the Wi-Fi, sometimes the tablet
            mate = shoppers[-1]
            ip, device = mate.ip, mate.device if rng.random() < 0.3 else f"fp-{i}"
            home, place = mate.address, mate.place
        else:
            ip, device = random_ip(rng), f"fp-{i}"
            place, home = address(rng, i)
            if roll < 0.35:
                ip = rng.choice(offices)
            elif roll < 0.40:
                ip = f"{rng.choice(campuses)}.{rng.randrange(1, 255)}"
        shopper = Shopper(
            account=f"u{i}",
            device=device,
            phone=phone(rng, virtual=rng.random() < 0.02),
            ip=ip,
            card=card(rng),
            address=home,
            user_agent=rng.choice(MOBILE_UAS),
            rooted=rng.random() < 0.01,
            registered=rng.random() >= new_share,
            place=place,
        )
        sites.settle(shopper, shoppers[-1] if shoppers and roll < 0.25 else None)
        shoppers.append(shopper)
    return shoppers


# Device.model on events and sms.verify events after codes that are entered; switched off,
# the simulator writes the traffic of a catalog without them.
EMIT_DEVICE_MODEL = True  # Device.model on events
EMIT_SMS_VERIFY = True  # "sms.verify" events after codes that are used


def device(id_: str, model: str | None = None, rooted: bool = False) -> dict[str, object]:
    """A device as the client SDK reports it (the model only once the catalog has it)."""
    fields: dict[str, object] = {"id": id_}
    if rooted:
        fields["rooted"] = True
    if model is not None and EMIT_DEVICE_MODEL:
        fields["model"] = model
    return fields


def model_of(fields: dict[str, object]) -> None:
    """Give an attack event's device the model its SDK would report (from its id, so
    the attack's seeded traffic is untouched), once the catalog has the field."""
    found = fields.get("device")
    if EMIT_DEVICE_MODEL and isinstance(found, dict) and "model" not in found:
        found["model"] = DEVICE_MODELS[zlib.crc32(str(found["id"]).encode()) % len(DEVICE_MODELS)]


def sms_verify(phone: str, success: bool = True) -> dict[str, object] | None:
    """The code entered back (None until the catalog has the event type)."""
    if not EMIT_SMS_VERIFY:
        return None
    return {"type": "sms.verify", "phone": phone, "success": success}
