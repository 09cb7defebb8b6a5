"""The ring book: what ``shopguard rings`` publishes, one file per data directory.

Everything in it is desensitized: accounts and link values are the tenant's pseudonyms,
masks are the display masks the journal already holds. It is a contract between the
batch run (writer), the engine (``ring_score`` for rules and the model), the console
(ring page, queue grouped by ring) and the CLI report.
"""

from __future__ import annotations

from pathlib import Path

import msgspec


class RingLink(msgspec.Struct, frozen=True, omit_defaults=True):
    """One link value two or more members share."""

    kind: str  # entity kind: device, card, phone, phone_block, address, address_building...
    value: str  # its pseudonym
    members: list[int]  # indexes into Ring.members of the accounts that used it
    mask: str = ""  # a display mask where the journal has one


class Ring(msgspec.Struct, frozen=True, omit_defaults=True):
    ring_id: str  # "R-" + short stable id, unique within the tenant
    tenant: str
    score: float  # 0..1: how likely this ring is organised abuse
    members: list[str]  # account pseudonyms
    links: list[RingLink]
    first_seen: float  # event time of its first member's first event in the window
    last_seen: float
    new_accounts_24h: int = 0  # members first seen in the last 24 h of the window
    growth: float = 0.0  # members first seen in the last 24 h / members
    events: int = 0
    harm_events: int = 0  # claims, redeems, payments, orders, draws... by members
    harm_money: float = 0.0
    denied: int = 0  # members with at least one denied decision
    fraud_labels: int = 0  # members with a confirmed fraud label
    link_types: dict[str, int] = {}  # kind -> shared values of that kind

    @property
    def size(self) -> int:
        return len(self.members)


class RingBook(msgspec.Struct, omit_defaults=True):
    built_at: float  # wall clock of the batch run
    window_start: float  # event time
    window_end: float
    rings: list[Ring] = []

    def index(self) -> dict[tuple[str, str], Ring]:
        """(tenant, account pseudonym) -> its ring."""
        return {(r.tenant, m): r for r in self.rings for m in r.members}

    def ring(self, tenant: str, ring_id: str) -> Ring | None:
        for r in self.rings:
            if r.tenant == tenant and r.ring_id == ring_id:
                return r
        return None


def book_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "rings.msgpack"


def save_book(path: Path, book: RingBook) -> None:
    """Write atomically (a reader never sees half a book), owner-only."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.msgpack.encode(book))
    tmp.chmod(0o600)
    tmp.replace(path)


def load_book(path: Path) -> RingBook | None:
    if not path.exists():
        return None
    return msgspec.msgpack.decode(path.read_bytes(), type=RingBook)
