"""Redis key names of state rows: one hash per (tenant, key group, entity).

``<prefix>:{<tenant>:<first>}<rest>:<group>``, where ``first`` is the entity (or the first
entity of a pair, ``rest`` being ``|second``). The braces are Redis Cluster's hash tag:
an entity's own row and the rows of the pairs it leads lie in one slot, whatever the
group. Ids may hold any printable character, so ``% { } :`` are percent-escaped in the
tenant and entity: a name is then unambiguous, tenants never share one, and it reads
back into (group, entity) for erasure and counting.
"""

from __future__ import annotations

import re

_ESCAPE = str.maketrans({"%": "%25", "{": "%7B", "}": "%7D", ":": "%3A"})
_UNESCAPE = re.compile(r"%(25|7B|7D|3A)")
_CHARS = {"25": "%", "7B": "{", "7D": "}", "3A": ":"}
_GLOB = re.compile(r"([*?\[\]\\])")


def _esc(text: str) -> str:
    return text.translate(_ESCAPE) if any(c in text for c in "%{}:") else text


def _unesc(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _CHARS[m.group(1)], text) if "%" in text else text


def tenant_head(prefix: str, tenant: str) -> str:
    """What every row name of the tenant starts with."""
    return f"{prefix}:{{{_esc(tenant)}:"


def row_key(head: str, group: int, entity: str) -> str:
    first, bar, second = entity.partition("|")
    return f"{head}{_esc(first)}}}{bar}{_esc(second)}:{group}"


def parse_key(head: str, key: str) -> tuple[int, str] | None:
    """(group, entity) of a row name under ``head``, None if it is not one."""
    if not key.startswith(head):
        return None
    body, _, group = key[len(head) :].rpartition(":")
    first, brace, rest = body.partition("}")
    if not brace or not group.isdigit():
        return None
    return int(group), _unesc(first) + _unesc(rest)


def pattern(head: str) -> str:
    """A SCAN MATCH pattern for every name under ``head``."""
    return _GLOB.sub(r"\\\1", head) + "*"
