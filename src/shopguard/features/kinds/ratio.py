"""``ratio``: ``num / den`` of two features, or of a number fact and a feature. It keeps no
state: the generated read divides the two values it has (missing when ``den`` is 0)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopguard.desensitize.schema import NUM
from shopguard.errors import ConfigError
from shopguard.features.kinds.base import Filter, Kind

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


class Ratio(Kind):
    def __init__(self) -> None:
        super().__init__("ratio", "", keyed=False)

    def check_sources(self, spec: FeatureSpec, where: str) -> None:
        if not (spec.num and spec.den):
            raise ConfigError("ratio needs num and den", where)

    def bind(
        self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str
    ) -> Stream | None:
        for part in (spec.num, spec.den):
            number = plan.facts.get(part or "") == NUM  # e.g. amount / its mean
            if not number and (part not in plan.specs or plan.kind(part).type != NUM):
                raise ConfigError(
                    f"ratio part {part!r} is neither a numeric feature nor a number fact", where
                )
        plan.ratios[spec.name] = (spec.num or "", spec.den or "")
        return None


KINDS = (Ratio(),)
