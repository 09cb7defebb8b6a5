"""Campaign budgets: what each promotion may give away, as facts rules can read.

The retailer declares budgets in the pack's ``campaigns.yaml``; every event naming a
campaign with a budget gets ``campaign_daily_budget``. Spend itself is a windowed feature
(``campaign_spend_1h``, ``campaign_spend_24h``), so the burn rate is a rule, not code.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from shopguard.yamlio import convert_items


class CampaignBudget(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    campaign: str
    # money the campaign may give away in 24 h (discounts redeemed)
    daily_budget: Annotated[float, msgspec.Meta(gt=0)]


class CampaignBook:
    def __init__(self, budgets: list[CampaignBudget]) -> None:
        self.facts: dict[str, dict[str, Any]] = {
            b.campaign: {"campaign_daily_budget": b.daily_budget} for b in budgets
        }

    @classmethod
    def from_doc(cls, doc: Any) -> CampaignBook | None:
        if not doc or not doc.get("campaigns"):
            return None
        source = "campaigns.yaml"
        return cls(convert_items(doc, "campaigns", CampaignBudget, "campaign", "campaign", source))
