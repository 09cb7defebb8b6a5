"""The list store: entries keyed by (entity kind, value), folded from list operations.

Every change is a :class:`ListOp`; the durable log keeps the ops and a restart folds them
back, so lists are exactly as they were. An entry belongs to one tenant; entries with an
empty tenant (a pack's lists.yaml, or an operator's shared entry) apply to every tenant,
and no tenant's event or erasure removes them. Times are the engine's *now*: the server
clock when serving live, event time in replay (docs/events.md), so a replay behaves as
live did. An entry past its expiry is ignored at once and dropped only by ``expire``
(never by one event, whose time a sender may forge).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

import msgspec

ListName = Literal["allow", "deny", "watch"]
LIST_ORDER: tuple[ListName, ...] = ("allow", "deny", "watch")
# Sources of entries people made ("api:<key>", "console:<user>", a pack's lists.yaml):
# they are no strike against the entity, which only a rule's own entry is (nor is the
# ring book's membership, kept in step with each new book).
_BY_HAND = frozenset({"api", "console", "config", "rings"})


class ListEntry(msgspec.Struct, frozen=True):
    list: ListName
    kind: str
    value: str
    expires: float | None  # event time; None = until removed
    reason: str
    source: str  # rule id, "api", "config"
    added: float
    tenant: str = ""  # "" = every tenant (config entries)


class ListOp(msgspec.Struct, frozen=True, tag_field="op"):
    """One change to the lists: an entry added (replacing any) or removed."""


class AddEntry(ListOp, frozen=True, tag="add"):
    entry: ListEntry


class RemoveEntry(ListOp, frozen=True, tag="remove"):
    list: ListName
    kind: str
    value: str
    tenant: str = ""


AnyOp = AddEntry | RemoveEntry


class ListStore:
    """In-memory lists; ``check`` costs one dict lookup per entity in the event."""

    def __init__(self) -> None:
        # (kind, value) -> (list, tenant) -> entry: one lookup per entity of an event
        self._entries: dict[tuple[str, str], dict[tuple[str, str], ListEntry]] = {}
        self._strikes: dict[tuple[str, str, str, str], int] = {}
        self._kinds: dict[str, int] = {}  # entity kind -> entries of that kind (check only those)

    def apply(self, op: AnyOp) -> None:
        if isinstance(op, AddEntry):
            entry = op.entry
            slot = self._entries.setdefault((entry.kind, entry.value), {})
            where = (entry.list, entry.tenant)
            if where not in slot:
                self._kinds[entry.kind] = self._kinds.get(entry.kind, 0) + 1
            slot[where] = entry
            if entry.source.partition(":")[0] not in _BY_HAND:  # only rules escalate
                strike = (entry.list, entry.kind, entry.value, entry.tenant)
                self._strikes[strike] = self._strikes.get(strike, 0) + 1
        else:
            self._drop(op.list, op.kind, op.value, op.tenant)

    def _drop(self, list_name: str, kind: str, value: str, tenant: str) -> None:
        slot = self._entries.get((kind, value))
        if slot is None or slot.pop((list_name, tenant), None) is None:
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

    def strikes(self, list_name: str, kind: str, value: str, tenant: str = "") -> int:
        """How many times a rule has put this entity on this list before."""
        return self._strikes.get((list_name, kind, value, tenant), 0)

    def check(self, facts: dict[str, Any], now: float) -> list[ListEntry]:
        """The entries live at ``now`` matching any entity of the event (its tenant's and
        shared ones), allow first then deny, watch. Expired ones are skipped, not dropped:
        dropping is ``expire``'s, on a time no single event sets."""
        if not self._kinds:
            return []
        entries = self._entries
        tenant = facts["tenant"]
        found: list[ListEntry] = []
        for kind in self._kinds:
            value = facts.get(kind)
            if value is None:
                continue
            slot = entries.get((kind, value))
            if slot:
                for entry in slot.values():
                    if entry.tenant and entry.tenant != tenant:
                        continue
                    if entry.expires is None or entry.expires > now:
                        found.append(entry)
        if len(found) > 1:
            found.sort(key=lambda e: LIST_ORDER.index(e.list))
        return found

    def expire(self, now: float | dict[str, float]) -> int:
        """Drop entries expired at ``now`` (their strikes are kept): one time for all, or
        per tenant (each tenant's latest event time, in replay; shared entries and tenants
        not named go by the earliest of those). Returns how many were dropped."""
        if isinstance(now, dict):
            per_tenant = now
            shared = min(now.values(), default=float("-inf"))
        else:
            per_tenant, shared = {}, now
        doomed = []
        for slot in self._entries.values():
            for entry in slot.values():
                if entry.expires is None:
                    continue
                until = per_tenant.get(entry.tenant, shared) if entry.tenant else shared
                if entry.expires <= until:
                    doomed.append(entry)
        for entry in doomed:
            self._drop(entry.list, entry.kind, entry.value, entry.tenant)
        return len(doomed)

    def get(
        self, list_name: str, kind: str, value: str, now: float, tenant: str = ""
    ) -> ListEntry | None:
        entry = self._entries.get((kind, value), {}).get((list_name, tenant))
        if entry is None or (entry.expires is not None and entry.expires <= now):
            return None
        return entry

    def entries(self, now: float | None = None, tenant: str | None = None) -> Iterator[ListEntry]:
        """Live entries (at ``now``); with ``tenant``, those of that tenant and shared ones."""
        for slot in self._entries.values():
            for entry in slot.values():
                if tenant is not None and entry.tenant not in ("", tenant):
                    continue
                if now is None or entry.expires is None or entry.expires > now:
                    yield entry

    def forget(self, kind: str, value: str, tenant: str) -> int:
        """Drop this tenant's entries and strikes of this entity, unjournaled (an erasure
        request: a journaled removal would write the pseudonym again). Shared entries
        (tenant "") are the operator's, not one tenant's to erase."""
        slot = self._entries.get((kind, value), {})
        doomed = [(lst, t) for lst, t in slot if t == tenant]
        for list_name, owner in doomed:
            self._drop(list_name, kind, value, owner)
        for strike in [s for s in self._strikes if s[1:] == (kind, value, tenant)]:
            del self._strikes[strike]
        return len(doomed)

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._entries.values())


ops_encoder = msgspec.msgpack.Encoder()
ops_decoder = msgspec.msgpack.Decoder(AnyOp)


def names_entity(raw: bytes, tenant: str, kind: str, value: str) -> bool:
    """Whether a journaled list op names this entity for this tenant (shared ops, tenant
    "", are not one tenant's to erase)."""
    op = ops_decoder.decode(raw)
    entry = op.entry if isinstance(op, AddEntry) else op
    return entry.kind == kind and entry.value == value and entry.tenant == tenant
