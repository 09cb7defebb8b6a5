"""Reports the SQLite journal answers in SQL: merchant health (checked by hypothesis
against :class:`~shopguard.labels.MerchantLedger`, the memory log's recomputation)."""

from __future__ import annotations

import sqlite3
from typing import Any

from shopguard.labels import LOSS_KINDS, MerchantHealth

_OUTCOMES = """
SELECT merchant, SUM(outcome = 0), SUM(outcome = 1), SUM(outcome = 2), SUM(outcome = 3),
  SUM(gross), SUM(CASE WHEN outcome >= 2 THEN stake ELSE 0 END)
FROM decisions WHERE tenant = ? AND merchant IS NOT NULL AND time >= ? AND time < ?
GROUP BY merchant"""
# The latest label per event (known by then), the event's merchant and time where it
# was decided here, else the label's own.
_LOSSES = """
WITH known AS (
  SELECT *, ROW_NUMBER() OVER (
    PARTITION BY COALESCE(event_id, 'label:' || id) ORDER BY known_at DESC, id DESC) AS n
  FROM labels WHERE tenant = ? AND known_at <= ? AND redacted = 0),
latest AS (SELECT * FROM known WHERE n = 1 AND kind IN (?, ?, ?, ?)),
placed AS (
  SELECT COALESCE(l.merchant, d.merchant) AS merchant, COALESCE(d.time, l.known_at) AS time,
    l.loss AS loss
  FROM latest l LEFT JOIN decisions d ON d.tenant = l.tenant AND d.event_id = l.event_id
    AND d.merchant IS NOT NULL AND d.seq = (SELECT MIN(seq) FROM decisions x
                 WHERE x.tenant = l.tenant AND x.event_id = l.event_id))
SELECT merchant, SUM(loss), COUNT(*) FROM placed
WHERE merchant IS NOT NULL AND time >= ? AND time < ? GROUP BY merchant"""


def merchant_health(
    db: sqlite3.Connection, tenant: str, since: float, until: float, known_by: float | None
) -> list[MerchantHealth]:
    tallies: dict[str, list[Any]] = {}
    for row in db.execute(_OUTCOMES, (tenant, since, until)):
        tallies[row[0]] = [*row[1:], 0.0, 0]
    kinds = sorted(LOSS_KINDS)
    known = 1e18 if known_by is None else known_by
    params = (tenant, known, *kinds, since, until)
    for merchant, loss, cases in db.execute(_LOSSES, params):
        tally = tallies.setdefault(merchant, [0, 0, 0, 0, 0.0, 0.0, 0.0, 0])
        tally[6], tally[7] = loss, cases
    out = []
    for merchant, (a, r, c, d, gross, blocked, loss, cases) in sorted(tallies.items()):
        rate = round(loss / gross, 6) if gross else None
        health = (merchant, a + r + c + d, a, r, c, d, round(gross, 2), round(blocked, 2))
        out.append(MerchantHealth(*health, round(loss, 2), cases, rate))
    return out
