"""The starter pack's features and rules written by hand: dicts, lists and if-statements.

This is the yardstick for ``bench/engine.py``: the same decisions for the benchmark's
event types (registration, login, SMS, coupon claims, payments, cabinet unlocks), with
no declarative layer at all. It shares only the edge (decode + desensitize) with the
engine. The benchmark checks the two agree on every outcome before timing them.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from shopguard.desensitize import Desensitizer
from shopguard.events import decode_event

H, D = 3600.0, 86400.0
DENY, CHALLENGE, REVIEW, ALLOW = 3, 2, 1, 0
KINDS = (
    "account",
    "address",
    "cabinet",
    "campaign",
    "card",
    "coupon",
    "device",
    "email",
    "id_number",
    "ip",
    "ip24",
    "merchant",
    "order_id",
    "phone",
    "product_code",
    "referrer",
    "session_id",
    "sku",
    "terminal",
    "user_agent",
)


class Times:
    """Event times (and amounts) of one key, pruned to a retention."""

    __slots__ = ("amounts", "times")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.amounts: list[float] = []

    def count(self, t: float, window: float) -> int:
        return len(self.times) - bisect_right(self.times, t - window)

    def add(self, t: float, retention: float, amount: float | None = None) -> None:
        self.times.append(t)
        if amount is not None:
            self.amounts.append(amount)
        cut = bisect_right(self.times, t - retention)
        if cut:
            del self.times[:cut]
            if amount is not None:
                del self.amounts[:cut]


def _count(table: dict[Any, Times], key: Any, t: float, window: float) -> int | None:
    if key is None:
        return None
    s = table.get(key)
    return s.count(t, window) if s else 0


def _add(
    table: dict[Any, Times], key: Any, t: float, retention: float, amount: float | None = None
) -> None:
    if key is not None:
        s = table.get(key)
        if s is None:
            s = table[key] = Times()
        s.add(t, retention, amount)


def _distinct(table: dict[Any, dict[Any, float]], key: Any, t: float, window: float) -> int | None:
    if key is None:
        return None
    seen = table.get(key)
    return sum(1 for when in seen.values() if when > t - window) if seen else 0


def _add_distinct(
    table: dict[Any, dict[Any, float]], key: Any, value: Any, t: float, retention: float
) -> None:
    if key is None or value is None:
        return
    seen = table.setdefault(key, {})
    seen.pop(value, None)
    seen[value] = t
    for old in [v for v, when in seen.items() if when <= t - retention]:
        del seen[old]


def _ge(value: float | None, threshold: float) -> bool:
    return value is not None and value >= threshold


class HandWritten:
    def __init__(self, desensitize: Desensitizer) -> None:
        self.desensitize = desensitize
        self.reg_device: dict[Any, dict[Any, float]] = {}
        self.reg_ip: dict[Any, dict[Any, float]] = {}
        self.reg_ip24: dict[Any, Times] = {}
        self.reg_phone: dict[Any, dict[Any, float]] = {}
        self.registered: dict[Any, float] = {}
        self.registered_first: dict[Any, float] = {}
        self.login_fail: dict[Any, Times] = {}
        self.login_ip: dict[Any, dict[Any, float]] = {}
        self.sms_phone: dict[Any, Times] = {}
        self.sms_ip_phones: dict[Any, dict[Any, float]] = {}
        self.sms_ip_intl: dict[Any, Times] = {}
        self.sms_device: dict[Any, Times] = {}
        self.sms_pending: dict[Any, list[float]] = {}
        self.claim_device: dict[Any, dict[Any, float]] = {}
        self.claim_pair: dict[Any, Times] = {}
        self.claim_ip24: dict[Any, Times] = {}
        self.card_accounts: dict[Any, dict[Any, float]] = {}
        self.device_cards: dict[Any, dict[Any, float]] = {}
        self.pay_fail: dict[Any, Times] = {}
        self.pay_ok: dict[Any, Times] = {}
        self.pay_day: dict[Any, Times] = {}
        self.pay_last: dict[Any, float] = {}
        self.unlocks: dict[Any, Times] = {}
        self.unlock_device: dict[Any, dict[Any, float]] = {}
        self.lists: dict[tuple[str, Any], tuple[str, float]] = {}
        self.strikes: dict[tuple[str, str, Any], int] = {}
        self.seen: set[str] = set()

    def _list(self, name: str, kind: str, value: Any, t: float, ttls: tuple[float, ...]) -> None:
        if value is None:
            return
        live = self.lists.get((kind, value))
        if live and live[0] == name and live[1] > t:
            return
        strikes = self.strikes.get((name, kind, value), 0)
        self.strikes[(name, kind, value)] = strikes + 1
        self.lists[(kind, value)] = (name, t + ttls[min(strikes, len(ttls) - 1)])

    def decide(self, raw: bytes) -> tuple[int, list[str]]:
        event = decode_event(raw)
        key = event.tenant + "\x1f" + event.event_id
        if key in self.seen:
            return ALLOW, []
        self.seen.add(key)
        f, _ = self.desensitize(event)
        t, kind = f["time"], f["type"]
        acc, dev, ip, ip24, phone = (f.get(k) for k in ("account", "device", "ip", "ip24", "phone"))
        listed = set()
        for k in KINDS:
            v = f.get(k)
            if v is not None:
                entry = self.lists.get((k, v))
                if entry and entry[1] > t:
                    listed.add((entry[0], k))
        decisive = [x for x in listed if x[0] != "watch"]
        hits: list[tuple[str, int, float]] = []
        bot = f.get("ua_bot") or f.get("ua_headless")
        if not decisive:
            hits = self._rules(f, kind, t, acc, dev, ip, ip24, phone, listed, bool(bot))
        self._apply(f, kind, t, acc, dev, ip, ip24, phone)
        if decisive:
            return (ALLOW if any(x[0] == "allow" for x in decisive) else DENY), []
        score = sum(h[2] for h in hits)
        outcome = max([h[1] for h in hits], default=ALLOW)
        outcome = max(
            outcome,
            DENY
            if score >= 150
            else CHALLENGE
            if score >= 90
            else REVIEW
            if score >= 60
            else ALLOW,
        )
        return outcome, [h[0] for h in hits]

    def _rules(
        self,
        f: dict[str, Any],
        kind: str,
        t: float,
        acc: Any,
        dev: Any,
        ip: Any,
        ip24: Any,
        phone: Any,
        listed: set[tuple[str, str]],
        bot: bool,
    ) -> list[tuple[str, int, float]]:
        hits = []
        if kind == "account.register":
            n = _distinct(self.reg_device, dev, t, D)
            if _ge(n, 3):
                hits.append(("REG_DEVICE_FARM", DENY, 100))
                self._list("deny", "device", dev, t, (D, 7 * D, 30 * D))
            if f.get("device_emulator") or f.get("device_rooted") or f.get("device_hooked"):
                hits.append(("REG_TAMPERED_DEVICE", CHALLENGE, 40))
            if f.get("phone_virtual"):
                hits.append(("REG_VIRTUAL_PHONE", REVIEW, 30))
            if f.get("email_disposable"):
                hits.append(("REG_DISPOSABLE_EMAIL", CHALLENGE, 40))
            if _ge(_distinct(self.reg_ip, ip, t, H), 10):
                hits.append(("REG_IP_BURST", CHALLENGE, 50))
            if _ge(_count(self.reg_ip24, ip24, t, H), 30):
                hits.append(("REG_SUBNET_BURST", REVIEW, 40))
            if _ge(_distinct(self.reg_phone, phone, t, 30 * D), 2):
                hits.append(("REG_RECYCLED_PHONE", REVIEW, 50))
            if bot:
                hits.append(("BOT_USER_AGENT", DENY, 100))
        elif kind == "account.login":
            if _ge(_count(self.login_fail, acc, t, H), 5):
                hits.append(("LOGIN_FAILURES", CHALLENGE, 50))
            if _ge(_distinct(self.login_ip, ip, t, H), 20):
                hits.append(("LOGIN_STUFFING_IP", DENY, 100))
                self._list("deny", "ip", ip, t, (H, D, 7 * D))
            if f.get("device_emulator") or f.get("device_hooked"):
                hits.append(("LOGIN_TAMPERED_DEVICE", REVIEW, 30))
            if bot:
                hits.append(("BOT_USER_AGENT", DENY, 100))
        elif kind == "sms.send":
            if _ge(_count(self.sms_phone, phone, t, H), 5):
                hits.append(("SMS_BOMBING_PHONE", DENY, 100))
            if _ge(_count(self.sms_phone, phone, t, D), 10):
                hits.append(("SMS_DAILY_CAP", DENY, 100))
            if _ge(_distinct(self.sms_ip_phones, ip, t, H), 10):
                hits.append(("SMS_PUMPING_IP", DENY, 100))
                self._list("deny", "ip", ip, t, (H, D, 7 * D))
            intl = _count(self.sms_ip_intl, ip, t, H)
            country = f.get("phone_country")
            if _ge(intl, 3) and country is not None and country != "CN":
                hits.append(("SMS_INTERNATIONAL_BURST", CHALLENGE, 60))
            if _ge(_count(self.sms_device, dev, t, 600), 5):
                hits.append(("SMS_DEVICE_BURST", CHALLENGE, 50))
            pending = self.sms_pending.get(ip, []) if ip is not None else []
            _shadow = sum(1 for p in pending if t - D < p <= t - 600) >= 5  # shadow only
            if bot:
                hits.append(("BOT_USER_AGENT", DENY, 100))
        elif kind == "promo.claim":
            reg = self.registered.get(acc) if acc is not None else None
            quick = reg is not None and t - reg <= 60  # followed_by reads the last register
            if quick and (
                f.get("phone_virtual") or f.get("device_emulator") or f.get("device_rooted")
            ):
                hits.append(("PROMO_INSTANT_CLAIM_RISKY", DENY, 100))
            if _ge(_distinct(self.claim_device, dev, t, D), 3):
                hits.append(("PROMO_DEVICE_MULTI_ACCOUNT", DENY, 100))
                self._list("deny", "device", dev, t, (D, 7 * D, 30 * D))
            pair = (acc, f.get("campaign")) if acc is not None else None
            if _ge(_count(self.claim_pair, pair, t, 30 * D), 3):
                hits.append(("PROMO_REPEAT_CLAIM", DENY, 100))
            if _ge(_count(self.claim_ip24, ip24, t, H), 20):
                hits.append(("PROMO_SUBNET_BURST", CHALLENGE, 50))
            if ("watch", "device") in listed or ("watch", "address") in listed:
                hits.append(("PROMO_WATCHED_DEVICE", CHALLENGE, 60))
            age = t - self.first_seen(acc) if self.first_seen(acc) is not None else None
            if f.get("phone_virtual") and age is not None and age < D:
                hits.append(("PROMO_NEW_ACCOUNT_VIRTUAL_PHONE", CHALLENGE, 50))
            if bot:
                hits.append(("BOT_USER_AGENT", DENY, 100))
        elif kind == "payment":
            card = f.get("card")
            if _ge(_distinct(self.card_accounts, card, t, D), 3):
                hits.append(("PAY_CARD_SHARED", DENY, 100))
                self._list("deny", "card", card, t, (7 * D, 30 * D))
            if _ge(_distinct(self.device_cards, dev, t, D), 4):
                hits.append(("PAY_DEVICE_MANY_CARDS", DENY, 100))
            if _ge(_count(self.pay_fail, acc, t, H), 3):
                hits.append(("PAY_FAILURES", CHALLENGE, 50))
            amount = f["amount"]
            ok = self.pay_ok.get(acc) if acc is not None else None
            n = ok.count(t, 30 * D) if ok else (0 if acc is not None else None)
            if _ge(n, 3) and ok is not None:
                i = bisect_right(ok.times, t - 30 * D)
                mean = sum(ok.amounts[i:]) / n  # type: ignore[operator]
                if amount > 5 * mean and amount > 500:
                    hits.append(("PAY_AMOUNT_SPIKE", REVIEW, 60))
            first = self.first_seen(acc)
            if amount >= 5000 and first is not None and t - first < H:
                hits.append(("PAY_NEW_ACCOUNT_LARGE", REVIEW, 60))
            last = self.pay_last.get(acc) if acc is not None else None
            day = self.pay_day.get(acc) if acc is not None else None
            spent = 0.0
            if day is not None:
                i = bisect_right(day.times, t - D)
                spent = sum(day.amounts[i:])
            if last is not None and t - last < 10 and acc is not None and spent > 2000:
                hits.append(("PAY_RAPID_FIRE", CHALLENGE, 40))
        elif kind == "cabinet.unlock":
            if _ge(_count(self.unlocks, acc, t, 600), 5):
                hits.append(("CABINET_UNLOCK_BURST", CHALLENGE, 50))
            if _ge(_distinct(self.unlock_device, dev, t, D), 3):
                hits.append(("CABINET_SHARED_DEVICE", REVIEW, 40))
        return hits

    def first_seen(self, acc: Any) -> float | None:
        return self.registered_first.get(acc) if acc is not None else None

    def _apply(
        self,
        f: dict[str, Any],
        kind: str,
        t: float,
        acc: Any,
        dev: Any,
        ip: Any,
        ip24: Any,
        phone: Any,
    ) -> None:
        if kind == "account.register":
            _add_distinct(self.reg_device, dev, acc, t, D)
            _add_distinct(self.reg_ip, ip, acc, t, H)
            _add(self.reg_ip24, ip24, t, H)
            _add_distinct(self.reg_phone, phone, acc, t, 30 * D)
            if acc is not None:
                self.registered[acc] = t
                self.registered_first.setdefault(acc, t)
            if ip is not None:
                self.sms_pending.pop(ip, None)
        elif kind == "account.login":
            if not f.get("success"):
                _add(self.login_fail, acc, t, H)
            _add_distinct(self.login_ip, ip, acc, t, H)
        elif kind == "sms.send":
            _add(self.sms_phone, phone, t, D)
            _add_distinct(self.sms_ip_phones, ip, phone, t, H)
            country = f.get("phone_country")
            if country is not None and country != "CN":
                _add(self.sms_ip_intl, ip, t, H)
            _add(self.sms_device, dev, t, 600)
            if ip is not None:
                pending = self.sms_pending.setdefault(ip, [])
                pending.append(t)
                cut = bisect_right(pending, t - D)
                del pending[:cut]
        elif kind == "promo.claim":
            _add_distinct(self.claim_device, dev, acc, t, D)
            if acc is not None:
                _add(self.claim_pair, (acc, f.get("campaign")), t, 30 * D)
            _add(self.claim_ip24, ip24, t, H)
        elif kind == "payment":
            _add_distinct(self.card_accounts, f.get("card"), acc, t, D)
            _add_distinct(self.device_cards, dev, f.get("card"), t, D)
            if not f.get("success"):
                _add(self.pay_fail, acc, t, H)
            else:
                _add(self.pay_ok, acc, t, 30 * D, f["amount"])
                _add(self.pay_day, acc, t, D, f["amount"])
            if acc is not None:
                self.pay_last[acc] = t
        elif kind == "cabinet.unlock":
            _add(self.unlocks, acc, t, 600)
            _add_distinct(self.unlock_device, dev, acc, t, D)
