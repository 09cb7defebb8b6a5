"""The two Lua scripts every round trip runs, one call per batch (one per slot in a
cluster, a script touching only keys of one slot).

A row's ``v`` field is its version: a random number the writer picks, so a write whose
reply was lost is recognised by its version when read back, and a row that expired and
was made again never shows an old version (no ABA). An absent row is version ``0``.
"""

from __future__ import annotations

import hashlib

# KEYS: rows. Returns each row's fields and values, flat (HGETALL), in order.
LOAD = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
"""

# KEYS: rows; per row in ARGV: expected version ('*': any), new version, TTL in ms,
# field count n, then n field/value pairs. A row still at its expected version gets the
# fields, the new version and the TTL (1); any other answers its current fields (a
# conflict: the writer folds its events again into them).
CAS = """
local out = {}
local a = 1
for i, key in ipairs(KEYS) do
  local expected, proposed, ttl, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  a = a + 4
  local current = redis.call('HGET', key, 'v') or '0'
  if current == expected or expected == '*' then
    if n > 0 then
      redis.call('HSET', key, 'v', proposed, unpack(ARGV, a, a + 2 * n - 1))
    else
      redis.call('HSET', key, 'v', proposed)
    end
    redis.call('PEXPIRE', key, ttl)
    out[i] = 1
  else
    out[i] = redis.call('HGETALL', key)
  end
  a = a + 2 * n
end
return out
"""


def sha(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


LOAD_SHA, CAS_SHA = sha(LOAD), sha(CAS)
SOURCES = {LOAD_SHA: LOAD, CAS_SHA: CAS}
