"""Events that link accounts, decided into a real journal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2025, 3, 3, tzinfo=UTC)


def event(i: int, account: str, kind: str = "account.login", tenant: str = "shop",
          hours: float = 0.0, **fields: Any) -> dict[str, Any]:  # fmt: skip
    when = (START + timedelta(hours=hours, seconds=i)).isoformat()
    return {"type": kind, "event_id": f"{tenant}-{i}", "tenant": tenant, "time": when,
            "account": account, **fields}  # fmt: skip


def farm(tenant: str = "shop", n: int = 6, start: int = 0) -> Iterator[dict[str, Any]]:
    """``n`` accounts on two devices, each claiming a gift."""
    for k in range(n):
        account = f"{tenant}-farm{k}"
        yield event(start + 2 * k, account, tenant=tenant, device={"id": f"farmdev{k % 2}"})
        yield event(start + 2 * k + 1, account, "promo.claim", tenant, campaign="new", value=20.0)
