"""IP addresses and user agents: derive version, network prefix and bot hints, mask."""

from __future__ import annotations

import re
from typing import NamedTuple


class Ip(NamedTuple):
    identity: str
    prefix: str  # IPv4 /24 or IPv6 /64, pseudonymized downstream like the address itself
    version: int
    mask: str


def parse_ip(raw: str) -> Ip:
    text = raw.strip().lower()
    if ":" in text:
        groups = text.split(":")
        return Ip(text, ":".join(groups[:4]) + "::/64", 6, ":".join(groups[:2]) + ":*")
    parts = text.split(".")
    if len(parts) != 4:
        return Ip(text, text, 0, "*")
    return Ip(text, f"{parts[0]}.{parts[1]}.{parts[2]}.0/24", 4, f"{parts[0]}.{parts[1]}.*.*")


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
