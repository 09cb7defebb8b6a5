"""The SQLite journal's tables, and the columns older journals get on opening."""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions(
  seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, event_id TEXT NOT NULL, time REAL NOT NULL,
  type TEXT NOT NULL, outcome INTEGER NOT NULL, facts BLOB NOT NULL, decision BLOB NOT NULL,
  merchant TEXT, gross REAL NOT NULL DEFAULT 0, stake REAL NOT NULL DEFAULT 0,
  content BLOB, chain BLOB, redacted INTEGER NOT NULL DEFAULT 0, body BLOB, seal BLOB);
CREATE INDEX IF NOT EXISTS decisions_event ON decisions(tenant, event_id);
CREATE TABLE IF NOT EXISTS labels(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,
  event_id TEXT, kind TEXT NOT NULL, known_at REAL NOT NULL, loss REAL NOT NULL,
  merchant TEXT, label BLOB NOT NULL, content BLOB, chain BLOB,
  redacted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS labels_event ON labels(tenant, event_id);
CREATE TABLE IF NOT EXISTS list_ops(id INTEGER PRIMARY KEY, seq INTEGER, op BLOB NOT NULL,
  content BLOB, chain BLOB, redacted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,
  payload BLOB NOT NULL, delivered_at REAL);
CREATE TABLE IF NOT EXISTS snapshot(id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL, state BLOB NOT NULL, mac BLOB);
CREATE TABLE IF NOT EXISTS write_probe(id INTEGER PRIMARY KEY CHECK (id = 1), pad BLOB);
"""
# Partner webhooks (webhooks/store.py): endpoints, one delivery per message and endpoint
# (its webhook-id fixed at fan-out, so a redelivery carries the same), each attempt, and
# how far the outbox and the list changes have been fanned out. Not chained: nothing is
# decided from them.
WEBHOOKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_endpoints(id TEXT PRIMARY KEY, tenant TEXT NOT NULL,
  url TEXT NOT NULL, description TEXT NOT NULL, kinds TEXT NOT NULL, filters TEXT NOT NULL,
  secret TEXT NOT NULL, previous_secret TEXT, previous_until REAL, status TEXT NOT NULL,
  disabled_reason TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_endpoints_tenant ON webhook_endpoints(tenant);
CREATE TABLE IF NOT EXISTS webhook_deliveries(id INTEGER PRIMARY KEY,
  webhook_id TEXT NOT NULL UNIQUE, endpoint TEXT NOT NULL, tenant TEXT NOT NULL,
  source TEXT NOT NULL, type TEXT NOT NULL, body BLOB NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL, first_due REAL NOT NULL,
  last_code INTEGER, last_error TEXT NOT NULL DEFAULT '', delivered_at REAL,
  created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries(due) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_by_source ON webhook_deliveries(source, status);
CREATE INDEX IF NOT EXISTS webhook_by_endpoint ON webhook_deliveries(tenant, endpoint, id);
CREATE TABLE IF NOT EXISTS webhook_attempts(id INTEGER PRIMARY KEY,
  delivery INTEGER NOT NULL, at REAL NOT NULL, code INTEGER, error TEXT NOT NULL,
  took_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_attempts_of ON webhook_attempts(delivery);
CREATE TABLE IF NOT EXISTS webhook_cursors(name TEXT PRIMARY KEY, position INTEGER NOT NULL);
"""


def migrate(db: sqlite3.Connection) -> None:
    """Journals written before merchant health, the chain, labels' chain and sealed
    snapshots get their columns (records from before the chain stay unchained, and
    ``verify`` says so)."""
    added = {
        "decisions": (
            ("merchant", "merchant TEXT"),
            ("gross", "gross REAL NOT NULL DEFAULT 0"),
            ("stake", "stake REAL NOT NULL DEFAULT 0"),
            ("content", "content BLOB"),
            ("chain", "chain BLOB"),
            ("redacted", "redacted INTEGER NOT NULL DEFAULT 0"),
            ("body", "body BLOB"),
            ("seal", "seal BLOB"),
        ),
        "list_ops": (
            ("content", "content BLOB"),
            ("chain", "chain BLOB"),
            ("redacted", "redacted INTEGER NOT NULL DEFAULT 0"),
        ),
        "labels": (
            ("content", "content BLOB"),
            ("chain", "chain BLOB"),
            ("redacted", "redacted INTEGER NOT NULL DEFAULT 0"),
        ),
        "snapshot": (("mac", "mac BLOB"),),
        "redactions": (("labels", "labels BLOB NOT NULL DEFAULT x''"),),
    }
    for table, columns in added.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, ddl in columns if have else ():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {ddl}")
