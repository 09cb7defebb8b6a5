"""What partners receive: the journal's outbox rows and list changes, as Standard
Webhooks messages (``{"type", "timestamp", "data"}``). One outbox row (a decision) can
be two messages: the alert, when its outcome reached the policy's ``alert_at``, and one
per recommendation a fired rule made (``recommendation.pause_campaign``...).

Only masks, pseudonyms and clear business ids go out (merchant, campaign): the outbox
holds nothing else, and a list change's free-text reason is left behind (an operator
may have typed anything there)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from shopguard.lists.store import AddEntry, ops_decoder
from shopguard.webhooks.endpoints import Kind

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode
# The decision fields an alert carries (the outbox holds exactly these and no facts).
_DECISION = ("event_id", "merchant", "campaign", "outcome", "simulated_outcome", "codes",
             "rules", "tags", "entities", "display")  # fmt: skip


class Message(msgspec.Struct):
    tenant: str
    kind: Kind
    type: str
    source: str  # outbox:<id> or list:<id>: with the endpoint, it fixes the webhook-id
    data: dict[str, Any]

    def body(self, now: float) -> bytes:
        return _encode({"type": self.type, "timestamp": iso(now), "data": self.data})


def iso(t: float) -> str:
    try:
        return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return ""


def from_outbox(outbox_id: int, payload: bytes) -> list[Message]:
    """The messages of one outbox row (an old row, from before message types: its alert)."""
    row = _decode(payload)
    tenant = str(row.get("tenant", ""))
    data: dict[str, Any] = {"tenant": tenant}
    data.update((name, row[name]) for name in _DECISION if row.get(name) is not None)
    data["event_type"] = row.get("type")
    data["time"] = iso(float(row.get("time", 0)))
    source = f"outbox:{outbox_id}"
    out = []
    if row.get("alert", True):
        out.append(Message(tenant, "alerts", "decision.alert", source, data))
    for name in row.get("recommendations") or []:
        detail = {**data, "recommendation": name}
        out.append(Message(tenant, "recommendations", f"recommendation.{name}", source, detail))
    return out


def from_list_op(op_id: int, raw: bytes) -> Message | None:
    """A list change as a message; None for a shared entry (no one tenant's to send)."""
    op = ops_decoder.decode(raw)
    if isinstance(op, AddEntry):
        entry = op.entry
        tenant, kind = entry.tenant, "list.entry_added"
        origin = entry.source.partition(":")[0]
        by_rule = origin not in ("api", "console", "config", "rings")
        data: dict[str, Any] = {
            "list": entry.list,
            "kind": entry.kind,
            "value": entry.value,
            "expires": iso(entry.expires) if entry.expires is not None else None,
            "added": iso(entry.added),
            "source": "rule" if by_rule else origin,
        }
        if by_rule:
            data["rule"] = entry.source
    else:
        tenant, kind = op.tenant, "list.entry_removed"
        data = {"list": op.list, "kind": op.kind, "value": op.value}
    if not tenant:
        return None
    return Message(tenant, "list_changes", kind, f"list:{op_id}", {"tenant": tenant, **data})
