"""The review console: server-rendered pages at /console for risk analysts.

It owns console users (scrypt-hashed passwords), their sessions and CSRF tokens
(users.py), the read-side query protocol its pages read the journal through (queries.py;
SQLite: sqlite_queries.py, PostgreSQL: postgres_queries.py), what every page shares
(web.py), the pages (pages.py; the investigation pages: investigation.py, with the review
queue's grouping in queue.py, the search box in search.py, the ring book reader in
rings.py and the ring drawing in drawing.py), and a small SVG chart helper (charts.py).
It reads and writes through the same engine as the API; nothing it serves comes from
the internet.
"""

from shopguard.console.pages import console_routes
from shopguard.console.users import UserStore

__all__ = ["UserStore", "console_routes"]
