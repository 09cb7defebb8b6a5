"""The engine: ``decide(event)`` runs the pipeline top to bottom.

decode -> desensitize -> lists -> links (the event's ring) and features -> rules -> model
-> policy -> effects.
Live serving, replay and backtests all call this; only the source and the clock differ.
Event time drives every window. *Now* (list expiry, dedupe ageing) is the injected clock
when live (``event_time: live``; events beyond the allowed skew of it are refused) and
each event's own time in replay, where no event is refused for its time (docs/events.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from shopguard.attributes import AttributeBook
from shopguard.champions import Champions
from shopguard.config import Pack, load_pack
from shopguard.decision import Decision, Reason
from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.desensitize.schema import PSEUDONYMIZED
from shopguard.effects import Effects
from shopguard.effects.dedupe import Dedupe
from shopguard.effects.journal import checkpoint, recover
from shopguard.errors import InvalidEvent, StateUnavailable, StorageUnavailable
from shopguard.events import decode_event
from shopguard.events.catalog import BaseEvent, CaseLabel
from shopguard.features.plan import FeaturePlan, TypePlan
from shopguard.features.spec import parse_duration
from shopguard.freezer import FREEZER
from shopguard.heap import give_back
from shopguard.links import LinkGraph, read_ring, ring_names
from shopguard.lists.store import ListStore
from shopguard.model import NoScorer, Scorer
from shopguard.model.registry import registered_scorers
from shopguard.model.scorer import scores
from shopguard.operations import Operations
from shopguard.outcome import Action, Outcome
from shopguard.rings.book import book_path
from shopguard.rings.live import RingWatch
from shopguard.rules.ruleset import RuleHit, RuleSet
from shopguard.settings import Settings, load_settings
from shopguard.state import DecisionLog, StateStore, make_decision_log, make_state_store
from shopguard.state.audit import audit_key
from shopguard.state.health import WriteHealth, storage_error
from shopguard.state.protocol import Touched
from shopguard.version import __version__

ENGINE_VERSION = __version__
# bump when the shape of stored state changes (3: data snapshots, 4: rows per tenant,
# 5: the link graph)
STATE_LAYOUT = b"rows-5:"
_EXPIRE_EVERY = 65_536  # events between sweeps of expired list entries
_LIST_ACTION = {"allow": Action(Outcome.ALLOW), "deny": Action(Outcome.DENY)}
_OUTCOME_NAMES = tuple(str(o) for o in Outcome)
_NOT_SHOWN = frozenset(PSEUDONYMIZED) | {"event_id", "tenant", "time", "type"}
_EXPLAIN_SKIPS = _NOT_SHOWN | {"score", "_listed"}
RawEvent = bytes | str | dict[str, Any] | BaseEvent


def _no_rows(tenant: str, keys: list[Any]) -> list[Any]:
    return [None] * len(keys)


_NO_STATE: Touched = []  # this event's features were read without state: nothing to fold
_STATE_UNAVAILABLE = Reason(
    "state", "STATE_UNAVAILABLE", "allow", 0.0, "feature state unreachable: read as unseen"
)


def _recommendations(hits: list[RuleHit]) -> list[str]:
    """What fired active rules suggest operators do, each once, in rule order."""
    return list(dict.fromkeys([r for h in hits for r in h.rule.recommend]))


class Engine(Champions, Operations):
    def __init__(
        self,
        pack: Pack,
        settings: Settings,
        *,
        store: StateStore | None = None,
        log: DecisionLog | None = None,
        scorer: Scorer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pack = pack
        self.settings = settings
        self.clock = clock
        keys, active = settings.resolved_keys()
        self.desensitize = Desensitizer(
            KeyRing.from_settings(keys, active),
            settings.default_region,
            int(settings.utc_offset_hours * 3600),
            pack.catalog,
            pack.campaigns,
            phone_block_digits=settings.phone_block_digits,
            attributes=pack.attributes,
        )
        self.attributes = AttributeBook(pack.attributes)  # checked at admit
        self._attributes_required = self.attributes.required_classes
        self.features = FeaturePlan(
            pack.features,
            settings.max_events_per_key,
            settings.distinct_exact_bound,
            facts=pack.attribute_facts,
            keys=pack.attribute_keys,
        )
        self.rules = pack.rules
        self.challenger: RuleSet | None = None
        self.scorer: Scorer = NoScorer()
        self.challenger_scorer: Scorer | None = None
        if scorer is None and settings.model == "registry":
            from shopguard.registries import open_models

            models = open_models(settings)
            try:
                scorer, self.challenger_scorer = registered_scorers(models)
            finally:
                models.close()
        self._check_model(scorer or self.scorer)
        self._check_model(self.challenger_scorer)
        self.scorer = scorer or self.scorer
        self.plans = self._plans()
        self.policy = pack.policy
        self._simulate = self.policy.mode == "simulate"
        self._explain = settings.explain
        if log is None:
            options = {}
            if settings.decision_log == "sqlite":
                options = {
                    "path": settings.journal_path,
                    "synchronous": settings.durability.upper(),
                    "busy_timeout": parse_duration(settings.journal_busy_timeout),
                    "min_free": settings.journal_min_free_mb * 1024 * 1024,
                }
            elif settings.decision_log == "postgres":
                options = {
                    "dsn": settings.postgres_dsn,
                    "schema": settings.postgres_schema,
                    "timeout": parse_duration(settings.postgres_timeout),
                    "partition": settings.journal_partition,
                    "writer": settings.writer,
                    "key": audit_key(Path(settings.data_dir)),  # the same on every worker
                }
            log = make_decision_log(settings.decision_log, **options)
        self.log = log
        self.live = settings.event_time == "live"
        self._ahead, self._behind = settings.event_skew
        # Memory logs keep decisions only as long as the dedupe window needs them.
        self._forget: Callable[[int], None] = getattr(self.log, "forget", lambda seq: None)
        self._since_snapshot = 0
        # A snapshot is restored only under the same features, links and state layout.
        declared = STATE_LAYOUT + msgspec.json.encode([pack.features, pack.links])
        self._fingerprint = hashlib.sha256(declared).hexdigest()
        self._recover(store or self._new_store())
        self.health = WriteHealth(self._probe, parse_duration(settings.journal_probe_every))
        self._stale = False  # memory holds what the journal does not: rebuild before deciding
        self.rings = RingWatch(book_path(settings.data_dir))  # shopguard rings' book

    def _recover(self, store: StateStore) -> int:
        """Fold lists, feature state (into ``store``), the link graph and the dedupe window
        back from the snapshot and journal, then use them: at start, and after a commit
        that failed.
        Nothing of the engine changes if it raises. Returns the records replayed."""
        store.layout(self.features.widths, self.features.group_ttls())
        lists = ListStore()
        lists.load_config(self.pack.lists)
        window = parse_duration(self.settings.dedupe_window)
        if self.live:  # a resend arriving later than this is refused for its time anyway
            window = min(window, self._ahead + self._behind)
        dedupe = Dedupe(window, self.settings.dedupe_max_ids)
        links = LinkGraph(self.pack.links)
        fingerprint = self._fingerprint
        replayed = recover(store, self.log, lists, self.plans, dedupe, fingerprint, links)
        self.store, self.lists, self.dedupe, self.links = store, lists, dedupe, links
        self.effects = Effects(store, self.log, lists, links)
        return replayed

    def _plans(self) -> dict[str, TypePlan]:
        """Per event type: read what the rules (champion and challenger) and the model
        need; every stream is updated whatever is read. Also sets which types read their
        ring (``ring_types``); the graph takes every event with an account."""
        needed = self._needed()
        rings = set(ring_names(self.pack.links))
        self.ring_types = frozenset(t for t, names in needed.items() if names & rings)
        for names in needed.values():
            names.intersection_update(self.features.specs)
        return self.features.compile(needed)

    def _needed(self) -> dict[str, set[str]]:
        """Per event type, every name its rules, the models and explain read."""
        needed = self.rules.names_by_type()
        if self.challenger is not None:
            for event_type, names in self.challenger.names_by_type().items():
                needed.setdefault(event_type, set()).update(names)
        if self.settings.explain:
            shown = {*self.features.specs, *ring_names(self.pack.links)}
            needed = {t: set(shown) for t in needed}
        for event_type, names in needed.items():
            if scores(self.scorer, event_type):
                names.update(self.scorer.features)
            if self.challenger_scorer is not None and scores(self.challenger_scorer, event_type):
                names.update(self.challenger_scorer.features)
        return needed

    @classmethod
    def from_config(
        cls,
        pack: str | Path | Pack | None = None,
        settings: Settings | str | Path | None = None,
        **overrides: Any,
    ) -> Engine:
        """Build an engine from a pack (name or directory) and settings (file or object)."""
        options = {
            k: overrides.pop(k) for k in ("store", "log", "scorer", "clock") if k in overrides
        }
        if not isinstance(settings, Settings):
            settings = load_settings(settings, overrides)
        elif overrides:
            settings = msgspec.structs.replace(settings, **overrides)
        if not isinstance(pack, Pack):
            pack = load_pack(pack or settings.pack)
        return cls(pack, settings, **options)

    # -- the pipeline -------------------------------------------------------------------
    def decide(self, event: RawEvent) -> Decision:
        """Decide one event; returns once the decision is durable (acknowledged). When it
        cannot be made durable, raises StorageUnavailable having kept nothing of it."""
        decoded = self.admit(decode_event(event))
        self._begin()
        try:
            decision = self._decide(decoded)
        except BaseException as exc:  # StorageUnavailable: a snapshot's commit, effects applied
            self._undo(exc, applied=isinstance(exc, StorageUnavailable))
            raise
        self.commit()
        return decision

    def decide_many(self, events: Iterable[RawEvent], *, admitted: bool = False) -> list[Decision]:
        """Decide a batch in order with one durable commit. A bad event rejects the whole
        batch before anything is applied; the error path starts with its index.
        ``admitted``: each event already passed ``admit`` (the API's group commit), so
        the clock moving on in between cannot refuse one and fail the others' batch."""
        decoded = []
        for i, raw in enumerate(events):
            try:
                event = decode_event(raw)
                decoded.append(event if admitted else self.admit(event))
            except InvalidEvent as exc:
                raise InvalidEvent(str(exc), f"$[{i}]" + exc.path[1:]) from None
        self._begin()
        try:
            if self.store.shared:  # every row the batch reads, in one round trip
                decisions = self._decide_prefetched(decoded)
            else:
                decisions = [self._decide(event) for event in decoded]
        except BaseException as exc:
            self._undo(exc, applied=isinstance(exc, StorageUnavailable))
            raise
        self.commit()
        return decisions

    def _decide_prefetched(self, events: list[BaseEvent]) -> list[Decision]:
        """A batch against a shared store: desensitize every event, fetch every row they
        read at once, then decide them in order (a resend within the batch is answered
        with the first one's decision, as one at a time)."""
        prepared = []
        wanted: list[tuple[str, list[Any]]] = []
        for event in events:
            started = time.perf_counter_ns()
            facts, display = self.desensitize(event)
            prepared.append((event, facts, display, started))
            wanted.append((facts["tenant"], self.plans[facts["type"]].keys(facts)))
        with contextlib.suppress(StateUnavailable):  # each read then meets the outage
            self.store.prefetch(wanted)
        decisions = []
        for event, facts, display, started in prepared:
            dedupe_key = f"{event.tenant}\x1f{event.event_id}"
            previous = self._resent(event, dedupe_key)
            if previous is not None:
                decisions.append(previous)
            else:
                decisions.append(self._judge(facts, display, dedupe_key, started))
        return decisions

    def commit(self, applied: bool = True) -> None:
        """Make everything staged durable. If that fails, nothing of it stays in memory
        either (see ``_undo``; ``applied``: memory already holds it) and
        StorageUnavailable (or the error) is raised."""
        try:
            self.log.commit()
        except BaseException as exc:
            self._undo(exc, applied)
            raise
        if self.health.failure is not None:
            self.health.succeeded()
        if self.store.shared:
            try:
                self.store.flush()  # the journal has the batch: state follows it
            except StateUnavailable as exc:  # the store keeps the folds until it answers
                self.health.lines.warning("state", f"state writes postponed: {exc}")

    def _begin(self) -> None:
        """Refuse a batch before it changes anything when the journal could not commit it:
        at once while it is down (a probe when due), or for want of the lock or space."""
        if self.health.failure is not None:
            self.health.check()
        try:
            self.log.begin()
        except StorageUnavailable as exc:
            self.health.failed(exc)
            raise

    def storage_problem(self) -> StorageUnavailable | None:
        """What keeps the journal from taking writes now (probed when due), or None."""
        return self.health.problem()

    # -- undoing a batch that was not made durable ----------------------------------------
    def _undo(self, exc: BaseException, applied: bool) -> None:
        """After a batch failed: the journal drops what it staged, and if the batch had
        changed anything in memory, feature state, lists and the dedupe window are rebuilt
        from what is durable (snapshot + journal, as a restart would), so a request that
        was refused leaves no trace. Measured in bench/storage_rollback.py."""
        applied = self.log.discard() or applied  # staged records: their effects applied
        self.store.drop()
        if isinstance(exc, StorageUnavailable):
            self.health.failed(exc)
        if applied and self.log.durable:
            try:
                self._rebuild()
            except StorageUnavailable as failure:
                self.health.failed(failure)  # decisions wait until a probe rebuilds it

    def _rebuild(self) -> None:
        self._stale = True
        try:
            replayed = self._recover(self._new_store())
        except Exception as exc:
            failure = storage_error(exc) or StorageUnavailable(f"state rebuild failed: {exc}")
            raise failure from exc
        self._since_snapshot, self._stale = replayed, False

    def _new_store(self) -> StateStore:
        """A state store of the configured backend (a shared one only connects: its
        state lives on the server)."""
        settings, options = self.settings, {}
        if settings.state_store == "redis":
            options = {
                "url": settings.redis_url,
                "cluster": settings.redis_cluster,
                "timeout": parse_duration(settings.redis_timeout),
                "prefix": settings.redis_prefix,
                "retry_every": parse_duration(settings.state_retry_every),
            }
        return make_state_store(settings.state_store, **options)

    def _probe(self) -> None:
        """Whether the journal takes writes again; a state left stale is rebuilt first."""
        self.log.probe()
        if self._stale:
            self._rebuild()

    def admit(self, event: BaseEvent) -> BaseEvent:
        """Refuse what decoding cannot judge alone: live, an event time beyond the allowed
        skew of the server clock (windows, lists and dedupe must not move on a forged
        time); always, a case.label dated after now, and custom attributes against the
        pack's declaration (shopguard.attributes)."""
        if event.attributes is not None or type(event) in self._attributes_required:
            self.attributes.check(event)
        when = event.time.timestamp()
        if self.live:
            now = self.clock()
            if when > now + self._ahead:
                ahead = self.settings.max_event_ahead
                raise InvalidEvent(f"event time is more than {ahead} ahead of ours", "$.time")
            if when < now - self._behind:
                behind = self.settings.max_event_behind
                raise InvalidEvent(f"event time is more than {behind} in the past", "$.time")
        if type(event) is CaseLabel and self._from_the_future(when):
            raise InvalidEvent("a case.label cannot be known in the future", "$.time")
        return event

    def _decide(self, event: BaseEvent) -> Decision:
        started = time.perf_counter_ns()
        dedupe_key = f"{event.tenant}\x1f{event.event_id}"  # Dedupe.key, inlined: hot path
        previous = self._resent(event, dedupe_key)
        if previous is not None:
            return previous
        facts, display = self.desensitize(event)
        return self._judge(facts, display, dedupe_key, started)

    def _resent(self, event: BaseEvent, dedupe_key: str) -> Decision | None:
        """The decision this event already had, if it was decided within the window."""
        seq = self.dedupe.seen.get(dedupe_key)
        if seq is None and self.dedupe.spilled:  # past dedupe_max_ids: ask the journal
            now = self.clock() if self.live else event.time.timestamp()
            if self.dedupe.spilled_after(event.tenant, now):
                seq = self.log.seq_of(event.tenant, event.event_id)
        return None if seq is None else self.log.decision(seq)

    def _judge(
        self, facts: dict[str, Any], display: dict[str, str], dedupe_key: str, started: int
    ) -> Decision:
        """Everything after desensitize: from here on only pseudonyms exist."""
        event_type = facts["type"]
        plan = self.plans[event_type]
        now = self.clock() if self.live else facts["time"]  # lists and dedupe age on it
        self.rings.poll(self.lists, self.log, now)  # a new ring book: its watch entries
        listed = self.lists.check(facts, now)
        try:
            values, touched = plan.read(facts, self.store.load)
        except StateUnavailable as exc:
            values, touched = self._without_state(plan, facts, exc)
        if event_type in self.ring_types:  # the event's ring in the link graph
            values.update(read_ring(self.links, facts))
        hits: list[RuleHit] = []
        shadow: list[RuleHit] = []
        trace: list[str] = []
        model_score = challenger_score = None
        challenger_outcome = None
        challenger_hits: list[RuleHit] = []
        decided_by = other_version = self.rules.version
        decisive = listed[0] if listed and listed[0].list != "watch" else None
        if decisive is not None:  # an allow or deny entry short-circuits rules and model
            action = _LIST_ACTION[decisive.list]
            total = 0.0
            reasons = [
                Reason(
                    f"list:{decisive.list}",
                    f"LIST_{decisive.list.upper()}",
                    decisive.list,
                    0.0,
                    f"{decisive.kind} on {decisive.list} list: {decisive.reason}",
                )
            ]
            values = values if self._explain else {}
        else:
            scope = {**facts, **values}
            scope["ring_score"], scope["ring_size"] = self.rings.of(
                facts["tenant"], facts.get("account")
            )
            if listed:
                scope["_listed"] = {(e.list, e.kind) for e in listed}
            if scores(self.scorer, event_type):
                try:
                    model_score = self.scorer.score(scope)
                except Exception as exc:  # a failing model is traced, never fatal
                    trace.append(f"model {self.scorer.name}: {type(exc).__name__}: {exc}")
                scope["score"] = model_score
            challenger = self.challenger_scorer
            if challenger is not None and scores(challenger, event_type):
                challenger_score = self._shadow_score(scope, trace)
            hits, shadow, errors = self.rules.evaluate(event_type, scope)
            if errors:
                trace.extend(f"rule {rid}: {msg}" for rid, msg in errors)
            total = sum(h.rule.score for h in hits) if hits else 0.0
            if model_score is not None:
                total += self.policy.model.weight * model_score
            action = self.policy.decide([h.rule.action for h in hits], total, model_score)
            if self.challenger is not None:  # a rollout may give it this event
                contest = self._challenge(scope, model_score, trace, (hits, action, total))
                hits, action, total, decided_by = contest[:4]
                challenger_hits, challenger_outcome, other_version = contest[4:]
            reasons = [h.as_reason() for h in hits]
            if touched is _NO_STATE:
                reasons.append(_STATE_UNAVAILABLE)
            if hits or shadow or challenger_hits or self._explain:
                values = self._shown(scope, hits, [*shadow, *challenger_hits], values)
            else:
                values = {}
        outcome = action.outcome
        simulated = None
        if self._simulate and outcome is not Outcome.ALLOW:
            simulated, action = str(action), Action(Outcome.ALLOW)
        seq = self.log.last_seq() + 1
        decision = Decision(
            facts["event_id"],
            facts["tenant"],
            event_type,
            facts["time"],
            _OUTCOME_NAMES[action.outcome],
            round(total, 4),
            reasons,
            decided_by,
            ENGINE_VERSION,
            (time.perf_counter_ns() - started) // 1000,
            challenge=action.challenge,
            shadow=self._shadow_reasons(shadow, challenger_hits, other_version)
            if shadow or challenger_hits
            else [],
            challenger_outcome=challenger_outcome,
            simulated_outcome=simulated,
            features=values,
            display=display,
            model_score=model_score,
            challenger_score=challenger_score,
            trace=trace,
            recommendations=_recommendations(hits) if hits else [],
        )
        ops = self.effects.list_ops(facts, hits, now) if hits else []
        alert = self.policy.alerts(outcome)  # recommendations reach the outbox anyway
        self.effects.apply(seq, facts, decision, plan, touched, ops, action.outcome, alert)
        self._remember(facts["tenant"], dedupe_key, seq, now)
        return decision

    def _without_state(
        self, plan: TypePlan, facts: dict[str, Any], exc: StateUnavailable
    ) -> tuple[dict[str, Any], Touched]:
        """``state_unavailable``: open reads every feature as for an entity never seen
        and folds nothing (the journal still has the event); closed refuses the event."""
        if self.settings.state_unavailable == "closed":
            raise exc
        self.health.lines.warning("state", f"deciding without feature state: {exc}")
        values, _ = plan.read(facts, _no_rows)
        return values, _NO_STATE

    def _shown(
        self,
        scope: dict[str, Any],
        hits: list[RuleHit],
        shadow: list[RuleHit],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        if self._explain:  # every value a rule or model could read: what datasets are made of
            return {
                k: v
                for k, v in scope.items()
                if k not in _EXPLAIN_SKIPS
                and (isinstance(v, int | float) or (v is None and k in values))
            }
        names: set[str] = set()
        for hit in (*hits, *shadow):
            names |= hit.rule.when.names
        return {n: scope.get(n) for n in sorted(names - _NOT_SHOWN)}

    # -- dedupe, snapshots ---------------------------------------------------------------
    def _remember(self, tenant: str, key: str, seq: int, when: float) -> None:
        for old in self.dedupe.remember(tenant, key, seq, when):
            self._forget(old)
        if seq % _EXPIRE_EVERY == 0:
            self.expire_lists()
        self._since_snapshot += 1
        freeze = self.settings.gc_freeze_every
        if freeze and seq % freeze == 0:
            FREEZER.freeze()  # thaws and collects now and then: see freezer.py
        every = self.settings.snapshot_every
        if every and self._since_snapshot >= every and self.log.durable:
            self.log.commit()  # a failure here fails the batch (and undoes it)
            try:
                self.checkpoint()
            except StorageUnavailable as exc:  # the journal has it all: snapshot later
                self._since_snapshot = 0
                self.health.lines.warning("snapshot", f"snapshot postponed: {exc}")

    def checkpoint(self) -> None:
        """Snapshot state so a restart replays only the journal after it."""
        checkpoint(self.store, self.log, self.dedupe, self._fingerprint, self.links)
        give_back()  # the snapshot's blobs leave their pages in the heap: see heap.py
        self._since_snapshot = 0

    def close(self) -> None:
        if self.log.durable and self._since_snapshot and not self._stale:
            try:
                self.checkpoint()
            except StorageUnavailable as exc:  # every acknowledged record is journaled
                self.health.lines.warning("snapshot", f"no snapshot at close: {exc}")
        self.log.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
