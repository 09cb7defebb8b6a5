"""Canonical addresses: the variants one person writes of one address, made one string.

Drop addresses come in small variations ("12 Main St Apt 5", "12 main street, #5",
"１２ Main Street Unit 5"): an exact match on the typed string misses them. The canonical
form is a *building* part (house and lane numbers, the road, building or block number,
city words) and a *unit* part (the numbers of unit, room and floor, in the order
written, whatever word or sign named them), so "Unit 5 Room 502", "5单元502室" and
"5-502" after the house number are one unit, and a dorm or a drop building is one key
without it. Both are pseudonymized downstream; nothing here is kept.

What collides on purpose: case, whitespace, punctuation, full-width forms (NFKC), the
abbreviations below, Chinese numerals before a unit word, the administrative prefix of a
Chinese address (province, city, district: often filled in by a form, or left out), and
the word that names a unit (unit, room, flat and floor numbers are told apart only by
position). What does not: another house number, road, building or unit.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Spelled-out forms of the abbreviations (and the abbreviations of the spelled-out ones).
_WORDS = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "ln": "lane",
    "dr": "drive",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "hwy": "highway",
    "pkwy": "parkway",
    "cres": "crescent",
    "ter": "terrace",
    "cir": "circle",
    "bldg": "building",
    "blk": "block",
    "twr": "tower",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
}
# Words naming a unit, room or floor: what follows them is the unit part.
_UNIT = frozenset(
    {"apt", "apartment", "unit", "room", "rm", "flat", "suite", "ste", "floor", "fl", "lvl"}
)
# Words naming a number that is the house number, or a unit once a house number is known.
_NUMBER = frozenset({"no", "number", "#", "num", "nr"})
# Chinese unit words after a number, as the English word the walk below understands.
_CN_AFTER_NUMBER = {
    "号楼": "building",
    "栋": "building",
    "幢": "building",
    "座": "building",
    "单元": "unit",
    "楼": "floor",
    "层": "floor",
    "室": "room",
    "户": "room",
    "号": "no",
    "弄": "lane",
}
_CN_NUMERALS = "零一二三四五六七八九"
_CJK = "\u3400-\u9fff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_CN_NUMBER = re.compile(r"([零一二三四五六七八九十两]{1,4})(?=号楼|栋|幢|座|单元|楼|层|室|号|弄)")
_CN_UNIT = re.compile(r"(\d+[a-z]?)(号楼|栋|幢|座|单元|楼|层|室|户|号|弄)")
_CN_SPACE = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_CN_EDGE = re.compile(rf"(?<=[{_CJK}])(?=[^{_CJK}\s])|(?<=[^{_CJK}\s])(?=[{_CJK}])")
# A road in a Chinese address; 街道 (a sub-district) is an administrative name, not a road.
_CN_ROAD = re.compile(r"路|巷|弄|大道|街(?!道)|(?<!街)道|\d")
# Administrative suffixes; 小区, 社区, 园区... are housing estates or parks, not districts.
_CN_ADMIN = re.compile(r"省|自治区|特别行政区|自治州|地区|市|(?<![小社园校厂景])区|县|旗|街道|镇|乡")
# A unit word glued to its number ("rm502", "apt5", "#502", "5f") is split from it.
_GLUED = re.compile(r"(?<![a-z])(apt|apartment|unit|room|rm|flat|suite|ste|floor|fl|no|#)(?=\d)")
_FLOOR = re.compile(r"\b(\d+)(?:f|/f)\b")
_PUNCT = re.compile(r"[^\w#\-]+|(?<!\d)-|-(?!\d)|_")


class Address(NamedTuple):
    canonical: str  # building and unit: the key of one dwelling
    building: str  # without unit, room or floor: a drop building, a dorm, an office


def canonical_address(raw: str) -> Address:
    text = unicodedata.normalize("NFKC", raw).casefold()
    chinese = _HAS_CJK.search(text) is not None
    if chinese:
        text = _chinese(text)
    text = _FLOOR.sub(r"floor \1", text)
    text = _GLUED.sub(r"\1 ", text)
    building, unit = _walk(_PUNCT.sub(" ", text).split(), chinese)
    if not building and not unit:  # nothing but punctuation: the text itself is the key
        building = " ".join(raw.casefold().split())
    if unit:
        return Address(f"{building}|{'-'.join(unit)}", building)
    return Address(building, building)


def _chinese(text: str) -> str:
    """A Chinese address as words: its administrative prefix dropped, its numbers in
    digits, each unit word written before its number ("5栋" -> "building 5")."""
    text = _CN_SPACE.sub("", text.removeprefix("中国"))
    road = _CN_ROAD.search(text)
    head = text[: road.start()] if road else text
    cut = 0
    for admin in _CN_ADMIN.finditer(head):
        cut = admin.end()
    if cut < len(text):  # the prefix alone is no address: keep it then
        text = text[cut:]
    text = _CN_NUMBER.sub(lambda m: str(_cn_number(m.group(1))), text)
    text = _CN_UNIT.sub(lambda m: f" {_CN_AFTER_NUMBER[m.group(2)]} {m.group(1)} ", text)
    return _CN_EDGE.sub(" ", text)


def _cn_number(text: str) -> int:
    """一 .. 九十九 (and 两) as an int; digit by digit beyond that (一零一 -> 101)."""
    text = text.replace("两", "二")
    tens, ten, ones = text.partition("十")
    if ten and len(tens) <= 1 and len(ones) <= 1:
        value = (_CN_NUMERALS.index(tens) if tens else 1) * 10
        return value + (_CN_NUMERALS.index(ones) if ones else 0)
    return int("".join(str(_CN_NUMERALS.index(ch)) for ch in text if ch != "十") or 0)


def _walk(tokens: list[str], chinese: bool) -> tuple[str, list[str]]:
    """Split words into the building part and the unit numbers. A bare number is the house
    number, then (in a Chinese address, where no postcode follows) a room; a number after
    "no"/"#" is the house number until one is known, then a unit; "5-502" after the first
    word is unit and room (first, it is a hyphenated house number: "35-12 Main St"), and
    in a Chinese address without a building number, building and room (5-502: 5栋502室)."""
    building: list[str] = []
    unit: list[str] = []
    # known so far: a house number; a building number; either of them
    house = block = placed = False
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < n else ""
        if token in _UNIT or (token in _NUMBER and house):
            if following and (_has_digit(following) or len(following) == 1):
                unit.append(_number(following))
                i += 2
                continue
        elif token in _NUMBER:
            if following and _has_digit(following):
                building.append(_number(following))
                house = placed = True
                i += 2
                continue
        elif token in ("building", "lane", "block", "tower", "bldg", "blk"):
            if following and _has_digit(following):
                building += (_WORDS.get(token, token), _number(following))
                if token != "lane":  # 100弄5号: the lane's house number follows the lane
                    block = placed = True
                i += 2
                continue
        elif "-" in token and i > 0 and token[0].isdigit():
            parts = [_number(part) for part in token.split("-")]
            if chinese and not block:  # 5-502 is 5栋502室, 5-2-502 is 5栋2单元502室
                building += ("building", parts.pop(0))
                block = placed = True
            unit += parts
            i += 1
            continue
        elif token.isdigit():
            if placed and chinese:
                unit.append(_number(token))
            else:
                building.append(_number(token))
                house = placed = True
            i += 1
            continue
        building.append(_WORDS.get(token, token))  # "Flat Rock Road": a word, not a unit
        i += 1
    return " ".join(building), unit


def _has_digit(token: str) -> bool:
    return any(ch.isdigit() for ch in token)


def _number(token: str) -> str:
    """A number without leading zeros ("0502" is room 502); other tokens as they are."""
    return (token.lstrip("0") or "0") if token.isdigit() else token
