"""Postal addresses as people type them: one place, many spellings.

A place (street number, road, building, room) is written the way the sender types it:
English or Chinese, Rd or Road, "Room 305", "Rm305", "305室" or "5-305", full-width
digits from a Chinese keyboard, stray punctuation and case. Honest shoppers mostly type
their address one way and sometimes another; a ring's drop addresses are typed afresh by
each of its accounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import NamedTuple

ROADS = {
    "Renmin": "人民",
    "Zhongshan": "中山",
    "Jiefang": "解放",
    "Heping": "和平",
    "Wuxing": "吴兴",
    "Jianshe": "建设",
    "Xinhua": "新华",
    "Yan'an": "延安",
}
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class Place(NamedTuple):
    number: int  # street number (号)
    road: str  # a key of ROADS
    building: int  # building (栋 / 幢), 0: none
    room: int  # room or unit (室), 0: none
    lane: int = 0  # lane (弄), 0: none


def _english(p: Place) -> str:  # the spelling honest shoppers start from
    lane = f"Lane {p.lane}, " if p.lane else ""
    return f"{p.number} {p.road} Rd, {lane}Bldg {p.building}, Room {p.room}"


def _road_word(p: Place) -> str:
    lane = f"Lane {p.lane} " if p.lane else ""
    return f"{p.number} {p.road} Road {lane}Building {p.building} Rm {p.room}"


def _shouting(p: Place) -> str:
    lane = f"LN{p.lane} " if p.lane else ""
    return f"{p.number} {p.road.upper()} RD {lane}BLDG{p.building} RM{p.room}"


def _dotted(p: Place) -> str:
    lane = f"lane {p.lane}, " if p.lane else ""
    return f"No.{p.number}, {p.road.lower()} rd., {lane}bldg. {p.building}, room {p.room}."


def _unit(p: Place) -> str:
    lane = f"Lane {p.lane} " if p.lane else ""
    return f"{p.number} {p.road} Rd {lane}{p.building}-{p.room}"


def _chinese(p: Place) -> str:
    lane = f"{p.lane}弄" if p.lane else ""
    return f"{ROADS[p.road]}路{lane}{p.number}号{p.building}栋{p.room}室"


def _chinese_short(p: Place) -> str:
    lane = f"{p.lane}弄" if p.lane else ""
    return f"{ROADS[p.road]}路 {lane}{p.number}号 {p.building}幢 {p.room}"


def _full_width(p: Place) -> str:
    return _chinese(p).translate(_FULL_WIDTH)


def _mixed(p: Place) -> str:
    lane = f"{p.lane}弄" if p.lane else ""
    return f"{p.road} Rd {lane}{p.number}号, Bldg {p.building}, {p.room}室"


def _spaced(p: Place) -> str:
    return "  " + _english(p).replace(", ", " ,  ") + " "


SPELLINGS: tuple[Callable[[Place], str], ...] = (
    _english,
    _road_word,
    _shouting,
    _dotted,
    _unit,
    _chinese,
    _chinese_short,
    _full_width,
    _mixed,
    _spaced,
)


def write(place: Place, rng: random.Random | None = None) -> str:
    """The place in its plain English spelling, or (with ``rng``) in one drawn at random."""
    return _english(place) if rng is None else rng.choice(SPELLINGS)(place)


def random_place(rng: random.Random, building: int | None = None) -> Place:
    road = rng.choice(tuple(ROADS)[:4])  # the honest world's four roads (as before)
    number = rng.randrange(1, 300)
    return Place(
        number,
        road,
        building if building is not None else rng.randrange(1, 97),
        rng.randrange(101, 2999),
    )
