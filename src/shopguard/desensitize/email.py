"""E-mail addresses: normalize aliases, derive the domain and a disposable flag, mask."""

from __future__ import annotations

from typing import NamedTuple

from disposable_email_domains import blocklist

# Providers that ignore dots in the local part: "j.o.h.n" and "john" reach one inbox.
_DOTLESS = frozenset({"gmail.com", "googlemail.com"})


class Email(NamedTuple):
    identity: str
    domain: str
    disposable: bool
    mask: str


def parse_email(raw: str) -> Email:
    text = raw.strip().lower()
    local, _, domain = text.rpartition("@")
    if not local:
        return Email(text, "", False, "***")
    local = local.split("+", 1)[0]  # sub-addressing: a+promo1@x and a@x are one inbox
    if domain in _DOTLESS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return Email(f"{local}@{domain}", domain, domain in blocklist, f"{local[:1]}***@{domain}")
