"""Deciding beside other workers: a mixin of :class:`~shopguard.engine.Engine` for a
shared state store (Redis), kept apart so the pipeline reads in one sitting.

A batch (a lone event is a batch of one) is desensitized whole; its event ids are
claimed (state/claims.py) in one round trip that also brings the other workers' list and
link changes (state/changes.py), folded in before anything is judged; every row it
reads is fetched in one more (the store's ``prefetch``). Its events are then judged in
order, but for those another worker claimed: once this batch is committed (and its own
decisions are in their claims), each of those is answered with the other worker's
decision, applying nothing. Waiting only after its own commit is what keeps two workers
that each claimed some of the other's ids from waiting on each other. A claim whose
worker died is taken over when it expires (``claim_wait``): that event is decided then,
in a commit of its own.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from shopguard.decision import Decision
from shopguard.effects.dedupe import Dedupe
from shopguard.errors import StateUnavailable, StorageUnavailable
from shopguard.events.catalog import BaseEvent
from shopguard.features.plan import TypePlan
from shopguard.links import LinkGraph
from shopguard.lists.store import ListStore
from shopguard.settings import Settings
from shopguard.state import DecisionLog, StateStore
from shopguard.state.peers import Peers

Claimed = dict[str, Decision | bytes | None]
# (index in the batch, claim key, facts, display, dedupe key, start): decided elsewhere
Waiting = list[tuple[int, str, dict[str, Any], dict[str, str], str, int]]


class Sharing:
    settings: Settings
    store: StateStore
    log: DecisionLog
    peers: Peers | None
    plans: dict[str, TypePlan]
    dedupe: Dedupe
    lists: ListStore
    links: LinkGraph
    desensitize: Any

    def _begin(self) -> None:
        raise NotImplementedError

    def commit(self, applied: bool = True) -> None:
        raise NotImplementedError

    def _undo(self, exc: BaseException, applied: bool) -> None:
        raise NotImplementedError

    def _resent(self, event: BaseEvent, dedupe_key: str) -> Decision | None:
        raise NotImplementedError

    def _judge(
        self, facts: dict[str, Any], display: dict[str, str], dedupe_key: str, started: int
    ) -> Decision:
        raise NotImplementedError

    def catch_up_peers(self) -> bool:
        """Fold the other workers' new list and link changes now (a server's follower
        task, for a worker that decides nothing for a while; on the engine's thread);
        whether anything came. Deciding does this by itself."""
        if self.peers is None:
            return False
        before = self.peers.changes.folded
        self.peers.follow(self.lists, self.links)
        return self.peers.changes.folded > before

    def _decide_shared(self, events: list[BaseEvent]) -> list[Decision]:
        """Decide a batch against a shared store with one durable commit (see the
        module doc); returns once every decision is durable, here or elsewhere."""
        self._begin()
        try:
            decisions, waiting = self._decide_prefetched(events)
        except BaseException as exc:
            self._undo(exc, applied=isinstance(exc, StorageUnavailable))
            raise
        self.commit()
        for i, key, facts, display, dedupe_key, started in waiting:
            decisions[i] = self._decided_elsewhere(key, facts, display, dedupe_key, started)
        return [d for d in decisions if d is not None]

    def _decide_prefetched(self, events: list[BaseEvent]) -> tuple[list[Decision | None], Waiting]:
        """Claim, fetch every row at once, judge in order (a resend within the batch is
        answered with the first one's decision, as one at a time); the events another
        worker holds are left for after the commit (``Waiting``)."""
        prepared = []
        wanted: list[tuple[str, list[Any]]] = []
        for event in events:
            started = time.perf_counter_ns()
            facts, display = self.desensitize(event)
            prepared.append((event, facts, display, started))
            wanted.append((facts["tenant"], self.plans[facts["type"]].keys(facts)))
        claims = self._claim_and_fetch(events, wanted)
        decisions: list[Decision | None] = []
        waiting: Waiting = []
        for event, facts, display, started in prepared:
            dedupe_key = f"{event.tenant}\x1f{event.event_id}"
            previous = self._resent(event, dedupe_key)
            if previous is None and self.peers is not None and claims:
                key = self.peers.claims.key(event.tenant, event.event_id)
                found = claims.get(key)
                if isinstance(found, bytes):  # another worker is deciding it
                    waiting.append((len(decisions), key, facts, display, dedupe_key, started))
                    decisions.append(None)
                    continue
                previous = found
            if previous is None:
                previous = self._judge(facts, display, dedupe_key, started)
                if self.peers is not None:
                    self.peers.decided(
                        self.peers.claims.key(event.tenant, event.event_id), previous
                    )
            decisions.append(previous)
        return decisions, waiting

    def _claim_and_fetch(
        self, events: list[BaseEvent], wanted: list[tuple[str, list[Any]]]
    ) -> Claimed:
        """Claim the ids this worker has not decided itself (each once) and read the
        change stream, in the store's round trip that fetches every row the batch reads.
        Redis down: under ``open`` unclaimed (the reads meet the outage too:
        STATE_UNAVAILABLE), under ``closed`` refused."""
        if self.peers is None:
            with contextlib.suppress(StateUnavailable):  # each read then meets the outage
                self.store.prefetch(wanted)
            return {}
        key, seen = self.peers.claims.key, self.dedupe.seen
        keys = [
            key(e.tenant, e.event_id)
            for e in events
            if Dedupe.key(e.tenant, e.event_id) not in seen
        ]
        try:
            claiming = self.peers.claiming(list(dict.fromkeys(keys)), self.lists, self.links)
            self.store.prefetch(wanted, claiming)
        except StateUnavailable:
            if self.settings.state_unavailable == "closed":
                raise
            return {}
        return claiming.claimed or {}

    def _journaled(self, facts: dict[str, Any]) -> Decision | None:
        """The event's decision if a worker journaled it (the shared journal holds every
        writer's): asked only of an event whose claim this worker took over."""
        seq = self.log.seq_of(facts["tenant"], facts["event_id"])
        return None if seq is None else self.log.decision(seq)

    def _decided_elsewhere(
        self,
        key: str,
        facts: dict[str, Any],
        display: dict[str, str],
        dedupe_key: str,
        started: int,
    ) -> Decision:
        """The other worker's decision, waited for; or, its claim taken over (it died) or
        Redis gone meanwhile under ``open``, decided here in a commit of its own."""
        assert self.peers is not None
        try:
            found = self.peers.wait(key)
        except StateUnavailable:
            if self.settings.state_unavailable == "closed" or self.peers.breaker.closed:
                raise  # closed, or still being decided past claim_wait: retry later
            found = None
        if found is not None:
            return found
        journaled = self._journaled(facts)  # its worker may have died after its commit
        if journaled is not None:
            self.peers.decided(key, journaled)  # written into the claim with the next commit
            return journaled
        self._begin()
        try:
            decision = self._judge(facts, display, dedupe_key, started)
            self.peers.decided(key, decision)
        except BaseException as exc:
            self._undo(exc, applied=isinstance(exc, StorageUnavailable))
            raise
        self.commit()
        return decision
