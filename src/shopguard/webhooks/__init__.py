"""Signed webhooks to partners: the alerts outbox, list changes and recommendations,
delivered at least once to each tenant's own endpoints per the Standard Webhooks
specification (docs/webhooks.md). The store's protocol and its factory are in
protocol.py; it is kept in the SQLite journal file (store.py, log.py) or in the
PostgreSQL journal's schema, shared by every worker (postgres.py, postgres_log.py)."""

from shopguard.webhooks.signing import new_secret, sign, signature_header

__all__ = ["new_secret", "sign", "signature_header"]
