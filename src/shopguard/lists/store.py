"""The list store: entries keyed by (entity kind, value), folded from list operations.

Every change is a :class:`ListOp`; the durable log keeps the ops and a restart folds them
back, so lists are exactly as they were. Times are event times: an entry listed for 24 h
expires 24 h of *event time* later, so replay and live behave the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

import msgspec

ListName = Literal["allow", "deny", "watch"]
LIST_ORDER: tuple[ListName, ...] = ("allow", "deny", "watch")


class ListEntry(msgspec.Struct, frozen=True):
    list: ListName
    kind: str
    value: str
    expires: float | None  # event time; None = until removed
    reason: str
    source: str  # rule id, "api", "config"
    added: float


class ListOp(msgspec.Struct, frozen=True, tag_field="op"):
    """One change to the lists: an entry added (replacing any) or removed."""


class AddEntry(ListOp, frozen=True, tag="add"):
    entry: ListEntry


class RemoveEntry(ListOp, frozen=True, tag="remove"):
    list: ListName
    kind: str
    value: str


AnyOp = AddEntry | RemoveEntry


class ListStore:
    """In-memory lists; ``check`` costs one dict lookup per entity in the event."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], dict[str, ListEntry]] = {}
        self._strikes: dict[tuple[str, str, str], int] = {}
        self._kinds: dict[str, int] = {}  # entity kind -> entries of that kind (check only those)

    def apply(self, op: AnyOp) -> None:
        if isinstance(op, AddEntry):
            entry = op.entry
            slot = self._entries.setdefault((entry.kind, entry.value), {})
            if entry.list not in slot:
                self._kinds[entry.kind] = self._kinds.get(entry.kind, 0) + 1
            slot[entry.list] = entry
            if entry.source not in ("api", "config"):
                strike = (entry.list, entry.kind, entry.value)
                self._strikes[strike] = self._strikes.get(strike, 0) + 1
        else:
            self._drop(op.list, op.kind, op.value)

    def _drop(self, list_name: str, kind: str, value: str) -> None:
        slot = self._entries.get((kind, value))
        if slot is None or slot.pop(list_name, None) is None:
            return
        if not slot:
            del self._entries[(kind, value)]
        self._kinds[kind] -= 1
        if not self._kinds[kind]:
            del self._kinds[kind]

    def load_config(self, items: Iterable[dict[str, Any]]) -> None:
        """Static entries from a pack's lists.yaml (no TTL, no strikes)."""
        for item in items:
            entry = ListEntry(
                item["list"],
                item["kind"],
                str(item["value"]),
                None,
                str(item.get("reason", "")),
                "config",
                0.0,
            )
            self.apply(AddEntry(entry))

    def strikes(self, list_name: str, kind: str, value: str) -> int:
        """How many times a rule has put this entity on this list before."""
        return self._strikes.get((list_name, kind, value), 0)

    def check(self, facts: dict[str, Any]) -> list[ListEntry]:
        """The live entries matching any entity of the event, allow first then deny, watch.
        Expired entries met on the way are dropped (their strikes are kept)."""
        if not self._kinds:
            return []
        entries = self._entries
        now = facts["time"]
        found: list[ListEntry] = []
        expired: list[ListEntry] = []
        for kind in self._kinds:
            value = facts.get(kind)
            if value is None:
                continue
            slot = entries.get((kind, value))
            if slot:
                for entry in slot.values():
                    if entry.expires is None or entry.expires > now:
                        found.append(entry)
                    else:
                        expired.append(entry)
        for entry in expired:
            self._drop(entry.list, entry.kind, entry.value)
        if len(found) > 1:
            found.sort(key=lambda e: LIST_ORDER.index(e.list))
        return found

    def get(self, list_name: str, kind: str, value: str, now: float) -> ListEntry | None:
        entry = self._entries.get((kind, value), {}).get(list_name)
        if entry is None or (entry.expires is not None and entry.expires <= now):
            return None
        return entry

    def entries(self, now: float | None = None) -> Iterator[ListEntry]:
        for slot in self._entries.values():
            for entry in slot.values():
                if now is None or entry.expires is None or entry.expires > now:
                    yield entry

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._entries.values())


ops_encoder = msgspec.msgpack.Encoder()
ops_decoder = msgspec.msgpack.Decoder(AnyOp)
