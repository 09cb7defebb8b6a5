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
