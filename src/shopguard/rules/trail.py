"""What a ruleset trail is, whichever database keeps it: versions, changes, the standing
folded from them, the checks a change passes, the chained content of a change, and the
``Rulesets`` protocol both backends (rules/versions.py: SQLite, rules/versions_pg.py:
PostgreSQL) implement."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import msgspec

from shopguard.errors import ConfigError
from shopguard.state.chain import ChainReport, Row

ACTIONS = ("upload", "publish", "rollback", "shadow", "unshadow", "promote", "rollout")
ROLLOUT_ENTITIES = ("account", "device", "ip")


class Version(msgspec.Struct, frozen=True):
    number: int
    digest: str  # SHA-256 of the text
    note: str
    author: str
    at: float
    text: str = ""

    @property
    def name(self) -> str:
        return f"r{self.number}+{self.digest[:10]}"


class Change(msgspec.Struct, frozen=True):
    id: int
    action: str
    number: int | None
    actor: str
    at: float
    terms: str = ""  # a rollout's: {"percent": 10.0, "by": "account"}


class Rollout(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The challenger decides this share of traffic, bucketed by a keyed hash of
    ``by`` (an event without it falls back to account, device, then ip)."""

    percent: float
    by: str = "account"

    def checked(self) -> Rollout:
        if not 0 <= self.percent <= 100:
            raise ConfigError(f"rollout percent {self.percent:g}: 0 to 100")
        if self.by not in ROLLOUT_ENTITIES:
            raise ConfigError(f"rollout by {self.by!r}: one of {', '.join(ROLLOUT_ENTITIES)}")
        return self


class Standing(msgspec.Struct, frozen=True):
    """What runs: the champion (None: the pack's own rules), the challenger, and the
    share of traffic the challenger decides (None: shadow only)."""

    champion: int | None = None
    challenger: int | None = None
    previous: list[int] = []  # earlier champions, newest last: where rollback goes
    rollout: Rollout | None = None


class Rulesets(Protocol):
    """A ruleset trail: its versions, its chained changes, what runs."""

    def versions(self) -> list[Version]: ...
    def version(self, number: int) -> Version | None: ...
    def changes(self) -> list[Change]: ...
    def standing(self) -> Standing: ...
    def upload(self, text: str, author: str, note: str = "") -> Version: ...
    def change(
        self, action: str, actor: str, number: int | None = None, rollout: Rollout | None = None
    ) -> Standing: ...
    def verify(self) -> ChainReport: ...
    def revision(self) -> int:
        """A counter that moves with every change (any process's): cheap to poll."""
        ...

    def close(self) -> None: ...


def content(action: str, number: int | None, actor: str, at: float, digest: str) -> bytes:
    text = f"{action}\x1f{number}\x1f{actor}\x1f{at!r}\x1f{digest}"
    return hashlib.sha256(text.encode()).digest()


def fold(changes: Iterable[Change]) -> Standing:
    """The standing the trail's changes leave, oldest first."""
    champion: int | None = None
    challenger: int | None = None
    previous: list[int] = []
    rollout: Rollout | None = None
    for change in changes:
        n = change.number
        if change.action in ("publish", "promote") and n is not None:
            if champion is not None:
                previous.append(champion)
            champion = n
            if challenger == n or change.action == "promote":
                challenger, rollout = None, None
        elif change.action == "rollback":
            champion = previous.pop() if previous else None
            rollout = None  # back to known ground: the challenger stays, in shadow only
        elif change.action in ("shadow", "rollout"):
            challenger = n
            rollout = msgspec.json.decode(change.terms, type=Rollout) if change.terms else None
        elif change.action == "unshadow":
            challenger, rollout = None, None
    return Standing(champion, challenger, previous, rollout)


def planned(
    action: str,
    number: int | None,
    rollout: Rollout | None,
    standing: Standing,
    exists: Callable[[int], bool],
) -> tuple[int | None, str]:
    """The version a change names and its terms, or ConfigError saying why it cannot be."""
    terms = ""
    if action == "rollout":
        if rollout is None:
            raise ConfigError("a rollout needs its terms: percent and entity")
        terms = msgspec.json.encode(rollout.checked()).decode()
    if action in ("publish", "shadow", "rollout"):
        if number is None or not exists(number):
            raise ConfigError(f"no ruleset version {number}")
    elif action == "promote":
        if standing.challenger is None:
            raise ConfigError("no challenger in shadow to promote")
        number = standing.challenger
    elif action == "rollback":
        if standing.champion is None:
            raise ConfigError("nothing to roll back: the pack's own rules are running")
        number = standing.previous[-1] if standing.previous else None
    elif action != "unshadow":
        raise ConfigError(f"unknown ruleset action {action!r}; one of {', '.join(ACTIONS)}")
    return number, terms


def audited(versions: Iterable[tuple[Any, ...]], changes: Iterable[tuple[Any, ...]]) -> ChainReport:
    """Walk the chain of ``changes`` (id, action, number, actor, at, digest, content,
    chain), oldest first: an upload's digest must still match its version's text, and
    every version (number, digest, text, author, at) must have its upload."""
    from shopguard.state.chain import walk

    stored = {
        n: (digest, hashlib.sha256(text.encode()).hexdigest(), author, at)
        for n, digest, text, author, at in versions
    }
    uploaded: set[int] = set()

    def checked() -> Iterator[Row]:
        for cid, action, number, actor, at, digest, recorded, chain in changes:
            edited = content(action, number, actor, at, digest) != bytes(recorded)
            if action == "upload":
                edited |= stored.get(number) != (digest, digest, actor, at)
                uploaded.add(number)
            yield cid, recorded, chain, "record edited" if edited else ""

    report = walk("ruleset_changes", checked())
    if report.ok and set(stored) - uploaded:
        report.problem, report.at = "version inserted", min(set(stored) - uploaded)
    return report
