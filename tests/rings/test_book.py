"""The ring book round-trips through its file, written atomically and owner-only."""

from __future__ import annotations

from pathlib import Path

from shopguard.rings.book import Ring, RingBook, RingLink, book_path, load_book, save_book


def test_round_trip(tmp_path: Path) -> None:
    ring = Ring("R-1", "shop", 0.8, ["k1.a", "k1.b"], [RingLink("device", "k1.d", [0, 1])],
                10.0, 20.0, new_accounts_24h=1, growth=0.5, link_types={"device": 1})  # fmt: skip
    book = RingBook(1.0, 0.0, 20.0, [ring])
    path = book_path(tmp_path)
    assert load_book(path) is None
    save_book(path, book)
    assert load_book(path) == book and path.stat().st_mode & 0o077 == 0
    assert book.index()[("shop", "k1.b")] is ring and book.ring("shop", "R-1") is ring
    assert not path.with_suffix(".tmp").exists()
