"""E-mail addresses: normalize aliases, derive the domain, a disposable flag and the local
part's shape (generated accounts share one: user0412, user9350), mask."""

from __future__ import annotations

import string
from typing import NamedTuple

from disposable_email_domains import blocklist

# Providers that ignore dots in the local part: "j.o.h.n" and "john" reach one inbox.
_DOTLESS = frozenset({"gmail.com", "googlemail.com"})


# The local part's shape is cut here: a generator's pattern shows in its first characters,
# and a long tail would only split one shape into many.
PATTERN_CAP = 16


class Email(NamedTuple):
    identity: str
    domain: str
    disposable: bool
    mask: str
    pattern: str = ""  # the local part's shape at its domain ("aaaa9999@qq.com"); "" if none


_CLASSES = str.maketrans(
    {**{ch: "a" for ch in string.ascii_lowercase}, **{ch: "9" for ch in string.digits}}
)


def local_shape(local: str) -> str:
    """Each character's class (letter ``a``, digit ``9``, others as they are) up to
    ``PATTERN_CAP``, then ``+`` for a longer part: ``wool2024_07`` -> ``aaaa9999_99``.
    (The part is lower case by now; a non-ASCII letter is its own class, as written.)"""
    shape = local[:PATTERN_CAP].translate(_CLASSES)
    return shape + "+" if len(local) > PATTERN_CAP else shape


def parse_email(raw: str) -> Email:
    text = raw.strip().lower()
    local, _, domain = text.rpartition("@")
    if not local:
        return Email(text, "", False, "***")
    local = local.split("+", 1)[0]  # sub-addressing: a+promo1@x and a@x are one inbox
    if domain in _DOTLESS:
        local = local.replace(".", "")
        domain = "gmail.com"
    mask = f"{local[:1]}***@{domain}"
    pattern = f"{local_shape(local)}@{domain}"
    return Email(f"{local}@{domain}", domain, domain in blocklist, mask, pattern)
