"""The PostgreSQL journal's tables: versioned migrations, and decisions' time partitions.

Every table lives in the configured schema (``postgres_schema``). ``migrate`` applies the
migrations not yet recorded in ``migrations``, under a transaction-level advisory lock,
so two workers starting at once apply each exactly once (the second waits, then finds
them recorded). Decisions are range-partitioned on event time (day, week or month);
``Partitions`` creates the ones a batch needs (and the next one ahead) under another
advisory lock, and retention drops whole partitions (state/postgres/upkeep.py).
"""

from __future__ import annotations

import calendar
import hashlib
import math
import re
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

# Advisory lock ids: the first 8 bytes of a hash of what they guard, and the schema.
Lock = int
Conn = psycopg.Connection[TupleRow]


def lock_id(schema: str, what: str) -> Lock:
    raw = hashlib.sha256(f"shopguard\0{schema}\0{what}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


# Each migration is applied once, in order, recorded in ``migrations``; never edit one
# that has shipped: add the next. {s} is the schema (quoted).
MIGRATIONS: list[str] = [
    """
CREATE TABLE {s}.writers(id serial PRIMARY KEY, name text NOT NULL UNIQUE,
  created timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE {s}.decisions_gid CACHE 1000;
CREATE TABLE {s}.decisions(gid bigint NOT NULL DEFAULT nextval('{s}.decisions_gid'),
  writer int NOT NULL, seq bigint NOT NULL, tenant text NOT NULL, event_id text NOT NULL,
  time float8 NOT NULL, type text NOT NULL, outcome smallint NOT NULL, facts bytea NOT NULL,
  decision bytea NOT NULL, merchant text, gross float8 NOT NULL DEFAULT 0,
  stake float8 NOT NULL DEFAULT 0, content bytea, chain bytea,
  redacted smallint NOT NULL DEFAULT 0, body bytea, seal bytea,
  terms text[] NOT NULL DEFAULT '{{}}') PARTITION BY RANGE (time);
CREATE INDEX decisions_writer ON {s}.decisions(writer, seq);
CREATE INDEX decisions_event ON {s}.decisions(tenant, event_id);
CREATE INDEX decisions_recent ON {s}.decisions(tenant, gid);
CREATE INDEX decisions_terms ON {s}.decisions USING gin(terms) WITH (fastupdate = on);
CREATE TABLE {s}.list_ops(gid bigserial PRIMARY KEY, writer int NOT NULL, id bigint NOT NULL,
  seq bigint, op bytea NOT NULL, content bytea, chain bytea,
  redacted smallint NOT NULL DEFAULT 0, UNIQUE (writer, id));
CREATE TABLE {s}.labels(gid bigserial PRIMARY KEY, writer int NOT NULL, id bigint NOT NULL,
  tenant text NOT NULL, event_id text, kind text NOT NULL, known_at float8 NOT NULL,
  loss float8 NOT NULL, merchant text, label bytea NOT NULL, content bytea, chain bytea,
  redacted smallint NOT NULL DEFAULT 0, UNIQUE (writer, id));
CREATE INDEX labels_tenant ON {s}.labels(tenant, event_id);
CREATE TABLE {s}.outbox(id bigserial PRIMARY KEY, writer int NOT NULL, seq bigint NOT NULL,
  payload bytea NOT NULL, delivered_at float8);
CREATE TABLE {s}.snapshots(writer int PRIMARY KEY, seq bigint NOT NULL, state bytea NOT NULL,
  mac bytea NOT NULL);
CREATE TABLE {s}.write_probe(writer int PRIMARY KEY, at timestamptz NOT NULL);
-- compaction anchors and redactions: one chain each for the whole journal (written
-- under the upkeep lock); an anchor names one writer and the seq runs dropped from it
CREATE TABLE {s}.anchors(id bigint PRIMARY KEY, writer int NOT NULL, runs bytea NOT NULL,
  content bytea NOT NULL, chain bytea NOT NULL);
CREATE TABLE {s}.redactions(id bigint PRIMARY KEY, kind text NOT NULL, at float8 NOT NULL,
  marks bytea NOT NULL, before_time float8 NOT NULL, seqs bytea NOT NULL, ops bytea NOT NULL,
  labels bytea NOT NULL, content bytea NOT NULL, chain bytea NOT NULL);
-- each chain's newest (position, hash), MAC'd with the audit key: writer 0 holds the
-- journal-wide chains (anchors, redactions)
CREATE TABLE {s}.heads(writer int NOT NULL, chain text NOT NULL, position bigint NOT NULL,
  head bytea NOT NULL, mac bytea NOT NULL, PRIMARY KEY (writer, chain));
""",
    # the console (console/postgres_queries.py): a tenant's decisions by event time (its
    # overview), and its open review and challenge decisions newest first (the queue)
    """
CREATE INDEX decisions_tenant_time ON {s}.decisions(tenant, time);
CREATE INDEX decisions_held ON {s}.decisions(tenant, time, gid)
  WHERE outcome IN (1, 2) AND redacted = 0;
""",
    # webhooks (webhooks/postgres.py): the alerts not yet fanned out to endpoints, which
    # delivery workers claim with FOR UPDATE SKIP LOCKED (ids are not commit order)
    """
ALTER TABLE {s}.outbox ADD COLUMN fanned boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_unfanned ON {s}.outbox(id) WHERE NOT fanned;
""",
]


def migrate(conn: Conn, schema: str) -> int:
    """Create the schema and apply pending migrations; returns how many were applied."""
    s = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(schema, "migrate"),))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.migrations(version int PRIMARY KEY,"
                " applied timestamptz NOT NULL DEFAULT now())"
            ).format(s)
        )
        row = conn.execute(
            sql.SQL("SELECT COALESCE(MAX(version), 0) FROM {}.migrations").format(s)
        ).fetchone()
        done = int(row[0]) if row else 0
        quoted = s.as_string(conn)
        for version, ddl in enumerate(MIGRATIONS[done:], start=done + 1):
            conn.execute(ddl.format(s=quoted).encode())
            conn.execute(
                sql.SQL("INSERT INTO {}.migrations(version) VALUES (%s)").format(s), (version,)
            )
    return len(MIGRATIONS) - done


def period(when: float, every: str) -> tuple[float, float, str]:
    """The partition holding event time ``when``: [start, end) and its name's suffix."""
    if every == "month":
        day = datetime.fromtimestamp(when, UTC)
        start = calendar.timegm((day.year, day.month, 1, 0, 0, 0))
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        end = calendar.timegm((year, month, 1, 0, 0, 0))
    else:
        span = 86400 * (7 if every == "week" else 1)
        shift = 4 * 86400 if every == "week" else 0  # 1970-01-05 was a Monday
        start = math.floor((when - shift) / span) * span + shift
        end = start + span
    name = datetime.fromtimestamp(start, UTC).strftime("%Y%m%d")
    return float(start), float(end), name


class Partitions:
    """The decisions partitions that exist (cached; created when a batch needs one)."""

    def __init__(self, schema: str, every: str) -> None:
        self.schema, self.every = schema, every
        self.known: set[str] = set()

    def refresh(self, conn: Conn) -> None:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace"
            " WHERE n.nspname = %s AND p.relname = 'decisions'",
            (self.schema,),
        ).fetchall()
        self.known = {str(r[0]) for r in rows}

    def missing(self, times: list[float]) -> list[tuple[float, float, str]]:
        wanted: dict[str, tuple[float, float, str]] = {}
        for when in {math.floor(t / 3600) * 3600.0 for t in times}:  # an hour at a time
            for at in (when, when + 3600):  # the next partition too, ahead of need
                start, end, suffix = period(at, self.every)
                wanted.setdefault(f"decisions_{suffix}", (start, end, suffix))
        return [p for name, p in sorted(wanted.items()) if name not in self.known]

    def create(self, conn: Conn, parts: list[tuple[float, float, str]]) -> None:
        """Create ``parts`` in their own transaction (two workers may want the same)."""
        s = sql.Identifier(self.schema)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(self.schema, "parts"),))
            for start, end, suffix in parts:
                name = sql.Identifier(f"decisions_{suffix}")
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {}.{} PARTITION OF {}.decisions"
                        " FOR VALUES FROM ({}) TO ({})"
                    ).format(s, name, s, sql.Literal(start), sql.Literal(end))
                )
        self.known.update(f"decisions_{suffix}" for _, _, suffix in parts)

    def bounds(self, conn: Conn) -> list[tuple[str, float, float]]:
        """Every partition as (name, start, end), oldest first, as the server has them."""
        rows = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = p.relnamespace"
            " WHERE n.nspname = %s AND p.relname = 'decisions'",
            (self.schema,),
        ).fetchall()
        self.known = {str(r[0]) for r in rows}
        out = []
        for name, bound in rows:
            numbers = re.findall(r"'([^']*)'", str(bound))  # FROM ('start') TO ('end')
            if len(numbers) == 2:
                out.append((str(name), float(numbers[0]), float(numbers[1])))
        return sorted(out, key=lambda p: p[1])
