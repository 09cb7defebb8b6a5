"""What runs: the champion rules and model, and the challengers beside them in shadow.

A mixin of :class:`~shopguard.engine.Engine`. Rules or models are swapped between two
events (a published ruleset version, a promoted model); feature state is untouched. A
challenger is evaluated on the same values as the champion, recorded in the decision
(shadow reasons named ``rule@version``, ``challenger_outcome``, ``challenger_score``),
never enforced.
"""

from __future__ import annotations

from typing import Any

from shopguard.config import Pack
from shopguard.decision import Reason
from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.plan import TypePlan
from shopguard.model import NoScorer, Scorer
from shopguard.policy import Policy
from shopguard.rules.ruleset import RuleHit, RuleSet

_OUTCOME_NAMES = ("allow", "review", "challenge", "deny")


def _challenger_reason(hit: RuleHit, version: str) -> Reason:
    """A challenger's hit, recorded in shadow as ``<rule id>@<its version>``."""
    reason = hit.as_reason()
    reason.rule = f"{reason.rule}@{version}"
    return reason


class Champions:
    pack: Pack
    policy: Policy
    rules: RuleSet
    challenger: RuleSet | None
    scorer: Scorer
    challenger_scorer: Scorer | None
    plans: dict[str, TypePlan]

    def _plans(self) -> dict[str, TypePlan]:
        raise NotImplementedError

    def _check_model(self, scorer: Scorer | None) -> None:
        """A model may read only what the engine computes: fail at load, naming the rest."""
        unknown = sorted(set(scorer.features) - set(self.pack.schema)) if scorer else []
        if scorer is not None and unknown:
            raise ConfigError(f"model {scorer.name} reads what the engine lacks: {unknown}")
        strange = sorted(scorer.event_types - set(EVENT_TYPES)) if scorer else []
        if scorer is not None and strange:
            raise ConfigError(f"model {scorer.name} scores unknown event types: {strange}")

    def use_models(self, champion: Scorer | None, challenger: Scorer | None = None) -> None:
        """Swap the champion model (None: no model) and the one scoring in shadow."""
        self._check_model(champion)
        self._check_model(challenger)
        self.scorer, self.challenger_scorer = champion or NoScorer(), challenger
        self.plans = self._plans()

    def use_rules(self, champion: RuleSet, challenger: RuleSet | None = None) -> None:
        """Swap the rules between two events (a published ruleset version), with an
        optional challenger evaluated in shadow. Feature state is untouched."""
        self.rules, self.challenger = champion, challenger
        self.plans = self._plans()

    def _shadow_reasons(self, shadow: list[RuleHit], challenger: list[RuleHit]) -> list[Reason]:
        out = [h.as_reason() for h in shadow]
        if challenger:
            version = self.challenger.version if self.challenger else ""
            out += [_challenger_reason(h, version) for h in challenger]
        return out

    def _shadow_score(self, scope: dict[str, Any], trace: list[str]) -> float | None:
        assert self.challenger_scorer is not None
        try:
            return self.challenger_scorer.score(scope)
        except Exception as exc:  # traced like the champion's
            trace.append(f"challenger model {self.challenger_scorer.name}: {exc}")
            return None

    def _challenge(
        self, event_type: str, scope: dict[str, Any], model_score: float | None, trace: list[str]
    ) -> tuple[list[RuleHit], str]:
        """The challenger's active hits and the outcome it would have given."""
        assert self.challenger is not None
        hits, _, errors = self.challenger.evaluate(event_type, scope)
        trace.extend(f"challenger rule {rid}: {msg}" for rid, msg in errors)
        total = sum(h.rule.score for h in hits)
        if model_score is not None:
            total += self.policy.model.weight * model_score
        action = self.policy.decide([h.rule.action for h in hits], total, model_score)
        return hits, _OUTCOME_NAMES[action.outcome]
