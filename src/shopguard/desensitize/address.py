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
# Words naming a building's or lane's number: part of the building.
_BUILDING = frozenset({"building", "bldg", "block", "blk", "tower", "twr", "lane"})
# Chinese unit words (moved before their number), as the English word the walk reads.
_CN_WORDS = {
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
_HAS_CJK = re.compile("[\u3400-\u9fff]")
_CN_UNIT_WORD = "号楼|栋|幢|座|单元|楼|层|室|户|号|弄"
_CN_NUMBER = re.compile(f"([零一二三四五六七八九十百两]{{1,6}})(?={_CN_UNIT_WORD})")
# Words of a Chinese address: a number with the unit word after it (5栋, 502室), or a
# word as _TOKEN reads them.
_CN_TOKEN = re.compile(rf"(\d+(?:-\d+)*(?:[a-z](?![a-z]))?)({_CN_UNIT_WORD})?|([^\W\d_]+|#)")
# A road in a Chinese address; 街道 (a sub-district) is an administrative name, not a road.
_CN_ROAD = re.compile(r"路|巷|弄|大道|街(?!道)|(?<!街)道|\d")
# Administrative suffixes; 小区, 社区, 园区... are housing estates or parks, not districts.
# The prefix up to the last of them (one match: greedy, then back to a suffix).
_CN_ADMIN = re.compile(
    r"(?s:.*)(?:省|自治区|特别行政区|自治州|地区|市|(?<![小社园校厂景])区|县|旗|街道|镇|乡)"
)
# Words: a number (with its hyphenated parts and one letter: 4b, 5-502, 3f), a run of
# letters, "#". Everything else separates them, so "rm502" and "No.88" are two words.
_TOKEN = re.compile(r"\d+(?:-\d+)*(?:[a-z](?![a-z]))?|[^\W\d_]+|#")


class Address(NamedTuple):
    canonical: str  # building and unit: the key of one dwelling
    building: str  # without unit, room or floor: a drop building, a dorm, an office


def canonical_address(raw: str) -> Address:
    text = unicodedata.normalize("NFKC", raw).casefold()
    if text.isascii() or _HAS_CJK.search(text) is None:
        building, unit = _walk(_TOKEN.findall(text), False)
    else:
        building, unit = _walk(_chinese(text), True)
    if not building and not unit:  # nothing but punctuation: the text itself is the key
        building = " ".join(text.split())
    if unit:
        return Address(f"{building}|{'-'.join(unit)}", building)
    return Address(building, building)


def _chinese(text: str) -> list[str]:
    """The words of a Chinese address without spaces or its administrative prefix, its
    numbers in digits, each unit word as the English one before its number (5栋:
    building 5)."""
    text = "".join(text.split()).removeprefix("中国")
    road = _CN_ROAD.search(text)
    prefix = _CN_ADMIN.match(text[: road.start()] if road else text)
    if prefix is not None and prefix.end() < len(text):  # a prefix alone is kept
        text = text[prefix.end() :]
    text = _CN_NUMBER.sub(lambda m: str(_cn_number(m.group(1))), text)
    words: list[str] = []
    for number, unit_word, word in _CN_TOKEN.findall(text):
        if not number:
            words.append(word)
        elif unit_word:
            words += (_CN_WORDS[unit_word], number)
        else:
            words.append(number)
    return words


def _cn_number(text: str) -> int:
    """一 .. 九百九十九 (and 两) as an int; without 十 or 百, digit by digit (五零二: 502)."""
    text = text.replace("两", "二")
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_NUMERALS.index(ch)) for ch in text))
    value = digit = 0
    for ch in text:
        if ch in "十百":
            value += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            digit = _CN_NUMERALS.index(ch)
    return value + digit


def _walk(tokens: list[str], chinese: bool) -> tuple[str, list[str]]:
    """Split words into the building part and the unit numbers. A bare number is the house
    number, then (in a Chinese address, where no postcode follows) a room; a number after
    "no"/"#" is the house number until one is known, then a unit; "5-502" after the first
    word is unit and room (first, it is a hyphenated house number: "35-12 Main St"), and
    in a Chinese address without a building number, building and room (5-502: 5栋502室)."""
    building: list[str] = []
    unit: list[str] = []
    house = block = placed = False  # known so far: a house number, a building's, either
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        i += 1
        if not token[0].isdigit():
            following = tokens[i] if i < n else ""
            if following[:1].isdigit() or (len(following) == 1 and token in _UNIT):
                if token in _UNIT or (house and token in _NUMBER):
                    unit.append(_number(following))
                    i += 1
                    continue
                if token in _NUMBER:
                    building.append(_number(following))
                    house = placed = True
                    i += 1
                    continue
                if token in _BUILDING:
                    building += (_WORDS.get(token, token), _number(following))
                    if token != "lane":  # 100弄5号: the lane's house number follows the lane
                        block = placed = True
                    i += 1
                    continue
            if token != "#":  # "Flat Rock Road": a unit word without a number is a word
                building.append(_WORDS.get(token, token))
        elif "-" in token:
            parts = [_number(part) for part in token.split("-")]
            if i == 1:  # a hyphenated house number
                building.append("-".join(parts))
                house = placed = True
                continue
            if chinese and not block:  # 5-502 is 5栋502室, 5-2-502 is 5栋2单元502室
                building += ("building", parts.pop(0))
                block = placed = True
            unit += parts
        elif chinese and token[-1] == "f":  # 3F: the third floor
            unit.append(_number(token[:-1]))
        elif placed and chinese:
            unit.append(_number(token))
        else:
            building.append(_number(token))
            house = placed = True
    return " ".join(building), unit


def _number(token: str) -> str:
    """A number without leading zeros ("0502" is room 502); other tokens as they are."""
    return (token.lstrip("0") or "0") if token.isdigit() else token
