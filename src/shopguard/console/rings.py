"""The ring book as the console reads it: loaded again only when the file changes (the
batch run replaces it atomically), one tenant's rings at a time."""

from __future__ import annotations

from pathlib import Path

from shopguard.rings.book import Ring, RingBook, load_book


class RingShelf:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._book: RingBook | None = None
        self._members: dict[tuple[str, str], Ring] = {}

    def book(self) -> RingBook | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._book, self._members = None, None, {}
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._book = load_book(self.path)
            self._members = self._book.index() if self._book else {}
            self._stamp = stamp
        return self._book

    def rings(self, tenant: str) -> list[Ring]:
        """The tenant's rings, highest score first."""
        book = self.book()
        mine = [r for r in book.rings if r.tenant == tenant] if book else []
        return sorted(mine, key=lambda r: (-r.score, -r.size, r.ring_id))

    def ring(self, tenant: str, ring_id: str) -> Ring | None:
        book = self.book()
        return book.ring(tenant, ring_id) if book else None

    def ring_of(self, tenant: str, account: str) -> Ring | None:
        self.book()
        return self._members.get((tenant, account))
