"""Apply a decided event: journal first (record, list ops, alert), then state, the link
graph and lists.

Journal-first means a failed write leaves memory untouched; the state changes that follow
cannot fail. On restart the journal's facts are folded again through the same code.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shopguard.decision import Decision
from shopguard.desensitize.schema import PSEUDONYMIZED
from shopguard.features.plan import TypePlan
from shopguard.links import LinkGraph
from shopguard.lists.store import AddEntry, ListEntry, ListStore, ops_encoder
from shopguard.outcome import Outcome
from shopguard.rules.ruleset import RuleHit
from shopguard.state.changes import Changes
from shopguard.state.protocol import DecisionLog, LogRecord, StateStore, Touched


def _alert_payload(facts: dict[str, Any], decision: Decision, alert: bool) -> bytes:
    """The outbox row partners' webhooks are made of (webhooks/messages.py): ``alert``
    whether the outcome reached the policy's floor (else the row is there for its
    recommendations). Pseudonyms, masks and clear business ids only: never raw facts."""
    reasons = decision.reasons
    return msgspec.json.encode(
        {
            "event_id": decision.event_id,
            "tenant": decision.tenant,
            "merchant": facts.get("merchant"),
            "campaign": facts.get("campaign"),
            "type": decision.type,
            "time": decision.time,
            "outcome": decision.outcome,
            "simulated_outcome": decision.simulated_outcome,
            "alert": alert,
            "codes": [r.code for r in reasons],
            "rules": [r.rule for r in reasons],
            "tags": sorted({t for r in reasons for t in r.tags}),
            "recommendations": decision.recommendations,
            "entities": {k: facts[k] for k in PSEUDONYMIZED if k in facts},
            "display": decision.display,
        }
    )


class Effects:
    def __init__(
        self,
        store: StateStore,
        log: DecisionLog,
        lists: ListStore,
        links: LinkGraph,
        changes: Changes | None = None,
    ) -> None:
        self.store = store
        self.log = log
        self.lists = lists
        self.links = links
        self.changes = changes  # a shared store: the other workers get lists and links too

    def list_ops(self, facts: dict[str, Any], hits: list[RuleHit], now: float) -> list[AddEntry]:
        """List entries the fired rules ask for, with escalating TTLs for repeat offenders,
        from ``now`` (the engine's: the server clock live, event time in replay)."""
        ops: list[AddEntry] = []
        tenant = facts["tenant"]
        for hit in hits:
            effect = hit.rule.list_effect
            if effect is None:
                continue
            for kind in effect.entities:
                value = facts.get(kind)
                if value is None or self.lists.get(effect.add, kind, value, now, tenant):
                    continue
                strikes = self.lists.strikes(effect.add, kind, value, tenant)
                ttl = effect.ttl_for(strikes)
                reason, rule = hit.reason, hit.rule.id
                entry = ListEntry(effect.add, kind, value, now + ttl, reason, rule, now, tenant)
                ops.append(AddEntry(entry))
        return ops

    def apply(
        self,
        seq: int,
        facts: dict[str, Any],
        decision: Decision,
        plan: TypePlan,
        touched: Touched,
        ops: list[AddEntry],
        outcome: Outcome,
        alert: bool,
    ) -> None:
        encoded_ops = [ops_encoder.encode(op) for op in ops]
        payload = None
        if alert or decision.recommendations:
            payload = _alert_payload(facts, decision, alert)
        self.log.append(
            LogRecord(
                seq,
                decision.tenant,
                decision.event_id,
                decision.time,
                decision.type,
                outcome,
                facts,
                decision,
                encoded_ops,
                payload,
            )
        )
        if touched:
            self.store.fold(facts["tenant"], facts, touched)
        self.links.fold(facts, outcome)
        for op in ops:
            self.lists.apply(op)
        if self.changes is not None:
            self.changes.event(facts, outcome)
            for raw in encoded_ops:
                self.changes.list_op(raw)
