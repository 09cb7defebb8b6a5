"""Phone numbers: normalize to E.164 digits, derive country, segment and block, mask.

Virtual-operator (MVNO) segments are where wool parties buy throwaway numbers; the set is
configurable, these are mainland China's 170/171/162/165/167 ranges.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

VIRTUAL_SEGMENTS_CN = frozenset({"170", "171", "162", "165", "167"})
_CALLING_CODES = {str(code): regions[0] for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()}
_REGION_CODES = {regions[0]: str(code) for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()}
_HEX = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
_STRIP = str.maketrans("", "", " -().\t/")


class Phone(NamedTuple):
    identity: str  # what is pseudonymized: "sha256:<hex of E.164 digits>" or "md5:<hex>"
    country: str | None
    segment: str | None
    virtual: bool
    hashed: bool
    mask: str
    e164: str | None = None  # the digits, only for a number that parsed (not kept: derived)


def phone_block(e164: str, dropped: int) -> str:
    """The block a number belongs to: its E.164 digits without the last ``dropped``, which
    stand as ``*`` so a block of another size is another key ("86138123456**")."""
    return e164[:-dropped] + "*" * dropped if dropped > 0 else e164


def parse_phone(raw: str, default_region: str = "CN") -> Phone:
    """Normalize a raw or pre-hashed phone. Pre-hashed SHA-256 must be of the E.164 digits."""
    text = raw.strip().lower()
    if len(text) in (32, 64) and _HEX.fullmatch(text):
        kind = "md5" if len(text) == 32 else "sha256"
        return Phone(f"{kind}:{text}", None, None, False, True, "(hashed)")
    digits = text if text.isdigit() else text.translate(_STRIP)
    if digits.startswith("+"):
        digits = digits[1:]
        international = True
    elif digits.startswith("00"):
        digits = digits[2:]
        international = True
    else:
        international = False
    if not digits.isdigit():
        digits = "".join(ch for ch in digits if ch.isdigit())
    if international:
        code = next((digits[:n] for n in (1, 2, 3) if digits[:n] in _CALLING_CODES), "")
        region = _CALLING_CODES.get(code)
        national = digits[len(code) :]
    else:
        region = default_region
        code = _REGION_CODES.get(default_region, "")
        national = digits.lstrip("0") if default_region != "CN" else digits
    segment = national[:3] if len(national) >= 7 else None
    virtual = region == "CN" and segment in VIRTUAL_SEGMENTS_CN
    e164 = code + national
    identity = "sha256:" + hashlib.sha256(e164.encode()).hexdigest()
    mask = national[:3] + "****" + national[-4:] if len(national) >= 8 else "****"
    # Parsed: a known country and a national number of a real length (E.164: <= 15 digits).
    parsed = region is not None and len(national) >= 7 and len(e164) <= 15 and e164.isdigit()
    return Phone(identity, region, segment, virtual, False, mask, e164 if parsed else None)
