"""What the engine does besides deciding: lists, confirmed cases, search, retention and
erasure. A mixin of :class:`~shopguard.engine.Engine`, kept apart so the pipeline reads
in one sitting; every method here goes through the same journal as ``decide``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from shopguard.decision import Decision
from shopguard.desensitize import Desensitizer
from shopguard.desensitize.schema import ENTITY_KINDS, PSEUDONYMIZED
from shopguard.effects.dedupe import Dedupe
from shopguard.errors import ConfigError, InvalidLabel
from shopguard.features.spec import parse_duration
from shopguard.labels import Label, MerchantHealth
from shopguard.labels.feedback import case_facts
from shopguard.labels.label import label_from
from shopguard.links import LinkGraph
from shopguard.lists.store import LIST_ORDER, AddEntry, ListEntry, ListName, ListStore, RemoveEntry
from shopguard.lists.store import ops_encoder as list_ops_encoder
from shopguard.lists.ttl import parse_ttl
from shopguard.settings import Settings
from shopguard.state import DecisionLog, StateStore
from shopguard.state.peers import Peers
from shopguard.state.search import INDEXED_KINDS, DecisionQuery, Found

CLOCK_SKEW_S = 300.0  # how far the sender's clock may run ahead of ours


class Operations:
    settings: Settings
    clock: Callable[[], float]
    desensitize: Desensitizer
    lists: ListStore
    store: StateStore
    log: DecisionLog
    dedupe: Dedupe
    links: LinkGraph
    live: bool
    peers: Peers | None

    def checkpoint(self) -> None:
        raise NotImplementedError

    def commit(self, applied: bool = True) -> None:
        raise NotImplementedError

    def _from_the_future(self, when: float) -> bool:
        """Known after now by the injected clock (clocks may disagree by minutes): a case
        from the future would leak into earlier events' label features."""
        return when > self.clock() + CLOCK_SKEW_S

    def _judge(
        self, facts: dict[str, Any], display: dict[str, str], dedupe_key: str, started: int
    ) -> Decision:
        raise NotImplementedError

    # -- lists --------------------------------------------------------------------------
    def list_add(
        self,
        list_name: str,
        kind: str,
        value: str,
        *,
        tenant: str = "",
        ttl: str | None = None,
        reason: str = "",
        source: str = "api",
        raw: bool = True,
    ) -> ListEntry:
        """Add an entry for ``tenant`` ("" = every tenant); a raw PII value is pseudonymized
        first (with the tenant's key), so pass ``raw=False`` for a pseudonym."""
        if kind not in ENTITY_KINDS:
            raise ConfigError(f"unknown entity kind {kind!r}")
        if list_name not in LIST_ORDER:
            raise ConfigError(f"unknown list {list_name!r}; one of {', '.join(LIST_ORDER)}")
        value = self.entity_value(tenant, kind, value, raw)
        now = self.clock()
        expires = now + parse_ttl(ttl) if ttl else None
        entry = ListEntry(list_name, kind, value, expires, reason, source, now, tenant)
        self._list_op(AddEntry(entry))
        return entry

    def list_remove(
        self, list_name: str, kind: str, value: str, *, tenant: str = "", raw: bool = False
    ) -> bool:
        """Remove an entry; False if there was none."""
        value = self.entity_value(tenant, kind, value, raw)
        if self.peers:  # an entry another worker made is as removable
            self.peers.follow(self.lists, self.links)
        if self.lists.get(list_name, kind, value, float("-inf"), tenant) is None:
            return False
        self._list_op(RemoveEntry(cast(ListName, list_name), kind, value, tenant))
        return True

    def entity_value(self, tenant: str, kind: str, value: str, raw: bool) -> str:
        """The stored form of an identity: a raw PII value pseudonymized, else as given."""
        if raw and tenant and kind in PSEUDONYMIZED:
            return self.desensitize.entity(tenant, kind, value)
        return value

    def expire_lists(self) -> int:
        """Drop expired list entries as of now: the clock when live; in replay each
        tenant's latest event time (one tenant's events never expire another's)."""
        return self.lists.expire(self.clock() if self.live else self.dedupe.latest())

    def _list_op(self, op: AddEntry | RemoveEntry) -> None:
        raw = list_ops_encoder.encode(op)
        self.log.append_list_op(raw)
        if self.peers:  # published to the other workers with the commit
            self.peers.changes.list_op(raw)
        self.commit(applied=False)  # the lists change only once it is durable
        self.lists.apply(op)

    def find(self, tenant: str, event_id: str) -> Decision | None:
        """The decision an event got (None if it was never decided here)."""
        seq = self.dedupe.get(Dedupe.key(tenant, event_id))
        found = self.log.decision(seq) if seq is not None else None
        return found if found is not None else self.log.find(tenant, event_id)

    # -- confirmed cases and what they cost ---------------------------------------------
    def label(self, fields: dict[str, Any], *, raw_entity: bool = True) -> Label:
        """Record a confirmed case (fields of :class:`~shopguard.labels.Label`; ``known_at``
        defaults to now). A raw entity value is pseudonymized before it is stored."""
        pseudonym = self.desensitize.entity if raw_entity else None
        label = label_from({"known_at": self.clock(), **fields}, pseudonym)
        if self._from_the_future(label.known_at):
            raise InvalidLabel("a label cannot be known in the future", "$.known_at")
        self.log.add_label(label)
        self._feed_back(label)
        return label

    def _feed_back(self, label: Label) -> Decision | None:
        """A label about an event the journal holds, or about an entity, also enters the
        features, as the ``case.label`` event a caller could have sent
        (``labels.feedback``)."""
        if label.event_id is not None:
            labelled = self.log.facts_of(label.tenant, label.event_id)
        else:  # an entity label: the case names that entity alone
            labelled = {str(label.entity_kind): label.entity}
        if labelled is None:
            return None
        facts = case_facts(label, labelled, self.desensitize.utc_offset_s)
        known = self.find(label.tenant, facts["event_id"])
        if known is not None:  # the same label again: counted once
            return known
        key = Dedupe.key(label.tenant, facts["event_id"])
        decision = self._judge(facts, {}, key, time.perf_counter_ns())
        self.commit()  # not durable: undone in memory too
        return decision

    def merchant_health(
        self,
        tenant: str,
        since: float = 0.0,
        until: float = float("inf"),
        known_by: float | None = None,
    ) -> list[MerchantHealth]:
        """Per merchant: decided, blocked value, confirmed loss, loss rate (labels.health)."""
        return self.log.merchant_health(tenant, since, until, known_by)

    # -- search, retention, erasure -----------------------------------------------------
    def search(self, query: DecisionQuery) -> Found:
        """Decisions by time, outcome, rule, shadow rule and entity, newest first."""
        return self.log.search(query)

    def compact(self, now: float | None = None) -> dict[str, int]:
        """Apply the retention settings: thin quiet records, delete expired ones. Only
        records under a fresh snapshot are touched, so a restart replays what is left."""
        now = self.clock() if now is None else now
        self.expire_lists()
        self.checkpoint()
        upto = self.log.last_seq()
        deleted = self.log.compact(now - parse_duration(self.settings.retention), upto)
        thinned = self.log.thin(now - parse_duration(self.settings.retention_quiet), upto)
        return {"thinned": thinned, "deleted": deleted}

    def erase(self, tenant: str, kind: str, value: str, *, raw: bool = False) -> dict[str, int]:
        """Delete one entity's data on request: redact its journal records, drop its
        feature state, links, list entries and labels, then snapshot without it."""
        if kind not in INDEXED_KINDS:
            raise ConfigError(f"erasure is by one of {', '.join(INDEXED_KINDS)}; got {kind!r}")
        value = self.entity_value(tenant, kind, value, raw)
        counts = self.log.erase(tenant, kind, value)
        counts["state"] = self.store.forget(tenant, value)
        counts["links"] = self.links.forget(tenant, kind, value)
        counts["list_entries"] = self.lists.forget(kind, value, tenant)
        if self.peers:  # the other workers' lists and link graphs
            self.peers.erased(tenant, kind, value)
        if self.log.durable:
            self.checkpoint()
        return counts
