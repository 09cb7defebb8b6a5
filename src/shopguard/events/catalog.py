"""Typed structs for every business event ShopGuard scores (a tagged union on ``type``).

Fields holding personal data (phone, email, card, address, ip, names, ID numbers, profile)
are only ever read by :mod:`shopguard.desensitize`. Bounds reject absurd values at decode.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

# No control characters in identifiers (NUL, newlines, C1, line separators, bidi
# overrides): they end up in logs, console pages, CSV exports and search terms.
# (?![\s\S]) is the true end: in Python's re, `$` also matches before a final newline.
ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+(?![\s\S])"
# Events: the pattern is documented here and checked by events.decode, only for a body
# that could hold such a character (a regex per id field costs 0.6 us, ~5 per event).
Id = Annotated[str, Meta(min_length=1, max_length=128, extra_json_schema={"pattern": ID_PATTERN})]
# Elsewhere (labels, list entries: off the hot path) msgspec checks the pattern itself.
CheckedId = Annotated[str, Meta(min_length=1, max_length=128, pattern=ID_PATTERN)]
_ID = re.compile(ID_PATTERN)


def is_id(text: str, limit: int = 128) -> bool:
    """Would ``text`` pass as an id (for fields checked outside msgspec: forms)?"""
    return 0 < len(text) <= limit and _ID.match(text) is not None


Text = Annotated[str, Meta(max_length=512)]
Money = Annotated[float, Meta(ge=0, le=100_000_000)]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
Grams = Annotated[float, Meta(ge=-1_000_000, le=1_000_000)]
ATTRIBUTE_NAME = r"^[a-z][a-z0-9_]*$"
# Names and values are only bounded here: shopguard.attributes checks them against the
# pack's declaration when the engine admits the event, naming $.attributes.<name> (msgspec
# could only name the object). A null is the attribute not sent.
AttributeName = Annotated[
    str, Meta(min_length=1, max_length=64, extra_json_schema={"pattern": ATTRIBUTE_NAME})
]
AttributeValue = Annotated[str, Meta(max_length=4096)] | int | float | bool | None
# A pack's declared extra fields (packs/*/attributes.yaml; docs/attributes.md).
Attributes = Annotated[dict[AttributeName, AttributeValue], Meta(max_length=64)]


class Device(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A device fingerprint and what the client SDK observed about it."""

    id: Id
    emulator: bool = False
    rooted: bool = False
    hooked: bool = False  # Xposed / Frida style instrumentation
    proxy: bool = False  # VPN or proxy detected on device
    os: Annotated[str, Meta(max_length=32)] | None = None
    # the maker's model name ("SM-G9910", "iPhone15,2"): a farm buys one model in bulk
    model: Annotated[str, Meta(max_length=64)] | None = None


class Profile(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Personal attributes a caller may send; most are dropped at desensitize, never stored."""

    name: Text | None = None
    id_number: Annotated[str, Meta(max_length=64)] | None = None
    age: Annotated[int, Meta(ge=0, le=150)] | None = None
    gender: Annotated[str, Meta(max_length=16)] | None = None
    home_address: Text | None = None
    id_photo: Annotated[str, Meta(max_length=4096)] | None = None


class Item(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    sku: Id
    quantity: Annotated[int, Meta(ge=1, le=10_000)] = 1
    price: Money = 0.0


class ShelfReading(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A smart cabinet's load cell: grams removed (positive) or put back (negative)."""

    shelf: Annotated[int, Meta(ge=0, le=1_000)]
    weight_delta_g: Grams


class BaseEvent(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Fields every event carries; entity fields are optional and absent when unknown."""

    event_id: Id
    time: datetime
    tenant: Id
    merchant: Id | None = None
    channel: Literal["app", "web", "mini_program", "pos", "cabinet", "api"] | None = None
    account: Id | None = None
    device: Device | None = None
    ip: Annotated[str, Meta(max_length=64)] | None = None  # IPv4 or IPv6 (checked at decode)
    phone: Annotated[str, Meta(max_length=64)] | None = None
    email: Annotated[str, Meta(max_length=254)] | None = None
    card: Annotated[str, Meta(max_length=64)] | None = None
    address: Text | None = None
    user_agent: Annotated[str, Meta(max_length=1024)] | None = None
    profile: Profile | None = None
    attributes: Attributes | None = None


class AccountRegister(BaseEvent, tag="account.register"):
    invite_code: Id | None = None
    referrer: Id | None = None


class AccountLogin(BaseEvent, tag="account.login"):
    success: bool = True
    method: Literal["password", "sms", "oauth", "qr", "face"] | None = None


class SmsSend(BaseEvent, tag="sms.send"):
    """A request for an SMS verification code."""

    purpose: Literal["register", "login", "reset", "payment", "other"] = "other"


class SmsVerify(BaseEvent, tag="sms.verify"):
    """An SMS code entered (``phone`` names the number it was sent to): whether it matched.
    Codes sent and never entered are what SMS pumping leaves behind."""

    success: bool = True


class PromoClaim(BaseEvent, tag="promo.claim"):
    """A coupon or new-user gift claimed."""

    campaign: Id
    coupon: Id | None = None
    value: Money = 0.0


class PromoRedeem(BaseEvent, tag="promo.redeem"):
    campaign: Id
    coupon: Id | None = None
    order_id: Id | None = None
    amount: Money = 0.0
    discount: Money = 0.0


class LotteryDraw(BaseEvent, tag="lottery.draw"):
    campaign: Id


class FlashsaleOrder(BaseEvent, tag="flashsale.order"):
    campaign: Id
    sku: Id
    quantity: Annotated[int, Meta(ge=1, le=10_000)] = 1
    amount: Money = 0.0


class OrderCreate(BaseEvent, tag="order.create"):
    order_id: Id
    amount: Money
    items: Annotated[list[Item], Meta(max_length=500)] = []
    coupon: Id | None = None


class Payment(BaseEvent, tag="payment"):
    amount: Money
    order_id: Id | None = None
    currency: Annotated[str, Meta(min_length=3, max_length=3)] = "CNY"
    method: Literal["card", "wallet", "bank", "cash", "credit", "other"] = "card"
    success: bool = True
    terminal: Id | None = None


class Refund(BaseEvent, tag="refund"):
    order_id: Id
    amount: Money
    reason: Annotated[str, Meta(max_length=64)] | None = None


class CabinetUnlock(BaseEvent, tag="cabinet.unlock"):
    """Scan to open a smart vending cabinet's door."""

    cabinet: Id


class CabinetSession(BaseEvent, tag="cabinet.session"):
    """Door closed: what was billed and what the sensors measured."""

    cabinet: Id
    session_id: Id
    billed: Annotated[list[Item], Meta(max_length=200)] = []
    shelves: Annotated[list[ShelfReading], Meta(max_length=200)] = []
    rfid_missing: Annotated[list[Id], Meta(max_length=500)] = []
    paid: bool = True
    amount: Money = 0.0
    duration_s: Annotated[float, Meta(ge=0, le=86_400)] | None = None


class ProductVerify(BaseEvent, tag="product.verify"):
    """A product's unique anti-counterfeit code scanned."""

    product_code: Id
    sku: Id | None = None
    region: Annotated[str, Meta(max_length=64)] | None = None


class ReviewPost(BaseEvent, tag="review.post"):
    """A product review posted: what fake reviews and brushing leave (docs/events.md).
    ``order_id`` names the order reviewed, when the platform knows it; ``verified_purchase``
    is the platform's own flag (the engine also checks for the order's payment)."""

    sku: Id  # the product reviewed (a sku, or the platform's product id)
    rating: Annotated[int, Meta(ge=1, le=5)]
    order_id: Id | None = None
    text_length: Annotated[int, Meta(ge=0, le=100_000)] = 0  # characters: the text stays home
    media_count: Annotated[int, Meta(ge=0, le=100)] = 0  # photos and videos attached
    verified_purchase: bool | None = None


class HttpRequest(BaseEvent, tag="http.request"):
    path: Annotated[str, Meta(max_length=2048)]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    status: Annotated[int, Meta(ge=100, le=599)] | None = None
    is_static: bool = False


class CaseLabel(BaseEvent, tag="case.label"):
    """A confirmed case became known. ``time`` is when it became known: label features
    (a terminal's fraud labels over 30 days...) see it from then on, never before. The
    entity fields name whom it concerns (the labelled event's account, card, terminal).
    """

    verdict: Literal["fraud", "chargeback", "theft", "abuse", "legit"]
    labelled_event: Id | None = None
    loss: Money = 0.0
    terminal: Id | None = None


Event = (
    AccountRegister
    | AccountLogin
    | SmsSend
    | SmsVerify
    | PromoClaim
    | PromoRedeem
    | LotteryDraw
    | FlashsaleOrder
    | OrderCreate
    | Payment
    | Refund
    | CabinetUnlock
    | CabinetSession
    | ProductVerify
    | ReviewPost
    | HttpRequest
    | CaseLabel
)

EVENT_CLASSES: tuple[type[BaseEvent], ...] = (
    AccountRegister,
    AccountLogin,
    SmsSend,
    SmsVerify,
    PromoClaim,
    PromoRedeem,
    LotteryDraw,
    FlashsaleOrder,
    OrderCreate,
    Payment,
    Refund,
    CabinetUnlock,
    CabinetSession,
    ProductVerify,
    ReviewPost,
    HttpRequest,
    CaseLabel,
)
EVENT_TYPES: frozenset[str] = frozenset(str(cls.__struct_config__.tag) for cls in EVENT_CLASSES)
