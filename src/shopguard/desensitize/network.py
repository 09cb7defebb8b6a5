"""IP addresses and user agents: derive version, network prefix and bot hints, mask."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple


class Ip(NamedTuple):
    identity: str
    prefix: str  # IPv4 /24 or IPv6 /64, pseudonymized downstream like the address itself
    version: int
    mask: str
    # IPv4 /16 or IPv6 /32 (a provider's allocation: a residential proxy pool rotates
    # within it); "" for what is no address
    network: str = ""


def parse_ip(raw: str) -> Ip:
    text = raw.strip().lower()
    if ":" in text:
        return _ipv6(text)
    parts = text.split(".")
    if len(parts) != 4:
        return Ip(text, text, 0, "*")
    a, b, c = parts[0], parts[1], parts[2]
    return Ip(text, f"{a}.{b}.{c}.0/24", 4, f"{a}.{b}.*.*", f"{a}.{b}.0.0/16")


def _ipv6(text: str) -> Ip:
    """Prefixes of the full address ("2001:db8::1" is "2001:0db8:0000:..."), so each
    spelling of one address has one /64 and /32; the identity is the compressed form."""
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:  # not an address: the groups as written, as before
        groups = text.split(":")
        return Ip(text, ":".join(groups[:4]) + "::/64", 6, ":".join(groups[:2]) + ":*")
    groups = address.exploded.split(":")
    short = [group.lstrip("0") or "0" for group in groups]
    return Ip(
        address.compressed,
        ":".join(short[:4]) + "::/64",
        6,
        ":".join(short[:2]) + ":*",
        ":".join(short[:2]) + "::/32",
    )


_BOT = re.compile(
    r"bot|crawl|spider|scrap|curl|wget|python|httpclient|java/|go-http|libwww|okhttp/2|"
    r"phantomjs|selenium|puppeteer|playwright|headless",
    re.IGNORECASE,
)


class UserAgent(NamedTuple):
    bot: bool
    headless: bool


def parse_user_agent(raw: str) -> UserAgent:
    return UserAgent(_BOT.search(raw) is not None, "headless" in raw.lower())
