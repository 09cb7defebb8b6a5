"""Postal addresses as people type them: one place, many spellings.

A place (street number, road, building, room) is written the way the sender types it:
English or Chinese, Rd or Road, "Room 305", "Rm305", "305室" or "5-305", full-width
digits from a Chinese keyboard, stray punctuation and case. Honest shoppers mostly type
their address one way and sometimes another; a ring's drop addresses are typed afresh by
each of its accounts.
"""

from __future__ import annotations

import random
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


# (spelling, how its lane is written): {road} as given, {ROAD} upper, {low} lower, {cn}
# in Chinese; the lane part is left out for places without a lane.
TEMPLATES = (
    ("{n} {road} Rd, {lane}Bldg {b}, Room {r}", "Lane {l}, "),  # how honest shoppers start
    ("{n} {road} Road {lane}Building {b} Rm {r}", "Lane {l} "),
    ("{n} {ROAD} RD {lane}BLDG{b} RM{r}", "LN{l} "),
    ("No.{n}, {low} rd., {lane}bldg. {b}, room {r}.", "lane {l}, "),
    ("{n} {road} Rd {lane}{b}-{r}", "Lane {l} "),
    ("{cn}路{lane}{n}号{b}栋{r}室", "{l}弄"),
    ("{cn}路 {lane}{n}号 {b}幢 {r}", "{l}弄"),
    ("{cn}路{lane}{n}号{b}栋{r}室", "{l}弄", "full-width"),
    ("{road} Rd {lane}{n}号, Bldg {b}, {r}室", "{l}弄"),
    ("  {n} {road} Rd ,  {lane}Bldg {b} ,  Room {r} ", "Lane {l} ,  "),
)


def spell(place: Place, template: tuple[str, ...]) -> str:
    text, lane = template[0], template[1]
    written = text.format(
        n=place.number,
        road=place.road,
        ROAD=place.road.upper(),
        low=place.road.lower(),
        cn=ROADS[place.road],
        b=place.building,
        r=place.room,
        lane=lane.format(l=place.lane) if place.lane else "",
    )
    return written.translate(_FULL_WIDTH) if template[2:] else written


def spellings(place: Place) -> list[str]:
    return [spell(place, template) for template in TEMPLATES]


def write(place: Place, rng: random.Random | None = None) -> str:
    """The place in its plain English spelling, or (with ``rng``) in one drawn at random."""
    return spell(place, TEMPLATES[0] if rng is None else rng.choice(TEMPLATES))


def random_place(rng: random.Random, building: int | None = None) -> Place:
    road = rng.choice(tuple(ROADS)[:4])  # the honest world's four roads (as before)
    number = rng.randrange(1, 300)
    return Place(
        number,
        road,
        building if building is not None else rng.randrange(1, 97),
        rng.randrange(101, 2999),
    )
