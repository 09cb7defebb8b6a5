"""What runs: the champion rules and model, and the challengers beside them in shadow.

A mixin of :class:`~shopguard.engine.Engine`. Rules or models are swapped between two
events (a published ruleset version, a promoted model); feature state is untouched. A
challenger is evaluated on the same values as the champion, recorded in the decision
(shadow reasons named ``rule@version``, ``challenger_outcome``, ``challenger_score``),
never enforced, unless a rollout gives it a share of traffic: there the roles swap for
that event (the challenger decides, its list effects apply, ``ruleset_version`` names it and
the trace says ``rollout:<version>``; the champion's hits and outcome are what the decision
records in shadow). The share is a keyed hash of an entity's pseudonym, so one account
always goes the same way, every process agrees, and no client can pick its bucket.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from shopguard.config import Pack
from shopguard.decision import Reason
from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.plan import TypePlan
from shopguard.model import NoScorer, Scorer
from shopguard.outcome import Action
from shopguard.policy import Policy
from shopguard.rules.ruleset import RuleHit, RuleSet
from shopguard.rules.versions import ROLLOUT_ENTITIES, Rollout

_OUTCOME_NAMES = ("allow", "review", "challenge", "deny")


def _challenger_reason(hit: RuleHit, version: str) -> Reason:
    """A challenger's hit, recorded in shadow as ``<rule id>@<its version>``."""
    reason = hit.as_reason()
    reason.rule = f"{reason.rule}@{version}"
    return reason


_BUCKETS = 10_000  # a rollout's percent is honoured to 0.01 %


class Contest(NamedTuple):
    """Who decided one event when a challenger runs: the deciding rule set's hits,
    action, score and version; the other one's hits and outcome, recorded in shadow."""

    hits: list[RuleHit]
    action: Action
    total: float
    version: str
    other_hits: list[RuleHit]
    other_outcome: str
    other_version: str


def bucket(version: str, tenant: str, kind: str, pseudonym: str) -> int:
    """0 to 9,999, stable for an entity and a candidate version. The pseudonym is an HMAC
    of the raw identity under the deployment's key: the hash is keyed through it, and a
    new candidate draws its own share."""
    text = f"{version}\x1f{tenant}\x1f{kind}\x1f{pseudonym}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") % _BUCKETS


class Champions:
    pack: Pack
    policy: Policy
    rules: RuleSet
    challenger: RuleSet | None
    rollout: Rollout | None = None
    # what of the ruleset trail runs: champion, challenger, rollout (rules/swap.py)
    rules_standing: tuple[int | None, int | None, Rollout | None] = (None, None, None)
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

    def use_rules(
        self,
        champion: RuleSet,
        challenger: RuleSet | None = None,
        rollout: Rollout | None = None,
    ) -> None:
        """Swap the rules between two events (a published ruleset version), with an
        optional challenger evaluated in shadow, deciding ``rollout``'s share of traffic.
        Feature state is untouched."""
        self.rules, self.challenger = champion, challenger
        self.rollout = rollout if challenger is not None else None
        self.plans = self._plans()

    def _shadow_reasons(
        self, shadow: list[RuleHit], challenger: list[RuleHit], version: str
    ) -> list[Reason]:
        out = [h.as_reason() for h in shadow]
        if challenger:
            out += [_challenger_reason(h, version) for h in challenger]
        return out

    def rolled_out(self, facts: dict[str, Any]) -> bool:
        """Whether the rollout gives this event to the challenger."""
        rollout, challenger = self.rollout, self.challenger
        if rollout is None or challenger is None:
            return False
        for kind in (rollout.by, *ROLLOUT_ENTITIES):
            value = facts.get(kind)
            if value:
                drawn = bucket(challenger.version, facts["tenant"], kind, str(value))
                return drawn < rollout.percent * (_BUCKETS // 100)
        return False  # nothing to hash by: the champion decides

    def _shadow_score(self, scope: dict[str, Any], trace: list[str]) -> float | None:
        assert self.challenger_scorer is not None
        try:
            return self.challenger_scorer.score(scope)
        except Exception as exc:  # traced like the champion's
            trace.append(f"challenger model {self.challenger_scorer.name}: {exc}")
            return None

    def _challenge(
        self,
        scope: dict[str, Any],
        model_score: float | None,
        trace: list[str],
        champion: tuple[list[RuleHit], Action, float],
    ) -> Contest:
        """The challenger's hits and the outcome it gives (policy applied, no effects), and
        which of the two decides the event (the champion unless rolled out to)."""
        assert self.challenger is not None
        hits, _, errors = self.challenger.evaluate(scope["type"], scope)
        trace.extend(f"challenger rule {rid}: {msg}" for rid, msg in errors)
        total = sum(h.rule.score for h in hits)
        if model_score is not None:
            total += self.policy.model.weight * model_score
        action = self.policy.decide([h.rule.action for h in hits], total, model_score)
        ours, theirs = self.rules.version, self.challenger.version
        if self.rollout is not None and self.rolled_out(scope):
            trace.append(f"rollout:{theirs}")
            outcome = _OUTCOME_NAMES[champion[1].outcome]
            return Contest(hits, action, total, theirs, champion[0], outcome, ours)
        return Contest(*champion, ours, hits, _OUTCOME_NAMES[action.outcome], theirs)
