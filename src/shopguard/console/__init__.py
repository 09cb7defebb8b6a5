"""The review console: server-rendered pages at /console for risk analysts.

It owns console users (scrypt-hashed passwords), their sessions and CSRF tokens
(users.py), the read-side queries its pages need (queries.py), the pages themselves
(pages.py), and a small SVG chart helper (charts.py). It reads and writes through the
same engine as the API; nothing it serves comes from the internet.
"""

from shopguard.console.pages import console_routes
from shopguard.console.users import UserStore

__all__ = ["UserStore", "console_routes"]
