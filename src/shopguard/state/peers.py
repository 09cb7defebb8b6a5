"""What a worker shares with the other workers besides feature state, when the state
store is shared: event claims (``claims``) and the change stream of lists and links
(``changes``), each way in one pipeline per batch:

- before a batch is judged: its claims and the stream's new entries (``Claiming``);
- after its journal commit: the decisions into their claims and the batch's changes
  onto the stream (``Publishing``);

both riding in the state store's own request (its read, its flush), so neither costs a
round trip of its own.

The riders meet an outage through the store's breaker; the calls of their own (waiting
on a claim, following the stream, snapshots) go through this one's (``connect``):
during a Redis outage they fail at once, not after a timeout each.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from shopguard.decision import Decision
from shopguard.errors import StateUnavailable
from shopguard.links import LinkGraph
from shopguard.lists.store import ListStore
from shopguard.state.changes import Changes
from shopguard.state.claims import Claims
from shopguard.state.connect import Breaker, connect

log = logging.getLogger("shopguard.state")


class Peers:
    def __init__(
        self,
        *,
        url: str,
        cluster: bool,
        timeout: float,
        prefix: str,
        retry_every: float,
        claim_wait: float,
        window: float,
        links: LinkGraph,
        client: Any = None,
    ) -> None:
        self.worker = uuid.uuid4().hex[:16]  # one per process life: never reused
        self.client = (
            client if client is not None else connect(url, cluster=cluster, timeout=timeout)
        )
        self.breaker = Breaker(retry_every)
        self.claims = Claims(prefix, self.worker, claim_wait, window)
        self.changes = Changes(prefix, self.worker, links)

    # -- starting -----------------------------------------------------------------------
    def mark(self) -> str | None:
        """Where to follow the stream from, taken before the journal's lists are read
        (None while Redis is down: then from its end once it answers)."""
        try:
            return self.breaker.call("change stream", lambda: self.changes.tail(self.client))
        except StateUnavailable as exc:
            log.warning("lists and links start without the other workers' changes: %s", exc)
            return None

    def catch_up(
        self, lists: ListStore, links: LinkGraph, mark: str | None, journaled: set[bytes]
    ) -> None:
        """The link graph from Redis, the lists' changes since ``mark`` (but the
        ``journaled`` ops, read from the journal already)."""
        if mark is None:
            self.changes.last = "$"
            return
        try:
            self.breaker.call(
                "change stream",
                lambda: self.changes.catch_up(self.client, lists, links, mark, journaled),
            )
        except StateUnavailable as exc:
            log.warning("link graph from this worker's journal only: %s", exc)

    # -- a batch ------------------------------------------------------------------------
    def claiming(self, keys: list[str], lists: ListStore, links: LinkGraph) -> Claiming:
        """The batch's claims and the stream's read, to ride the store's read round trip
        (``RedisStateStore.prefetch``); its ``claimed`` once answered, as ``claim``'s."""
        if self.changes.last == "$":  # started during an outage: from the end now
            self.changes.last = self.breaker.call(
                "change stream", lambda: self.changes.tail(self.client)
            )
        return Claiming(self, keys, lists, links)

    def publishing(self) -> Publishing | None:
        """After the journal commit: the decisions into their claims and the changes onto
        the stream, to ride the store's write round trip (``flush``); None when there is
        nothing to send. Unanswered (Redis down), they stay owed to the next commit."""
        self.claims.committed()
        self.changes.committed()
        if not self.claims.unsent and not self.changes.unsent:
            return None
        return Publishing(self)

    def wait(self, key: str) -> Decision | None:
        """The decision of an event another worker is deciding, or None once its claim
        expired and this worker took it over."""
        ask = self.claims.ask(self.client)
        return self.claims.await_decision(
            key, lambda k: self.breaker.call("claims", lambda: ask(k))
        )

    def decided(self, key: str, decision: Decision) -> None:
        self.claims.decided(key, decision)

    def drop(self) -> None:
        """A refused batch: nothing of it is published; its claims are let go."""
        self.changes.drop()
        with contextlib.suppress(StateUnavailable):  # else they expire after claim_wait
            self.breaker.call("claims", lambda: self.claims.release(self.client))

    def follow(self, lists: ListStore, links: LinkGraph) -> None:
        """Fold the other workers' new changes now (before a list change); skipped while
        Redis is down."""
        with contextlib.suppress(StateUnavailable):
            self.breaker.call(
                "change stream", lambda: self.changes.follow(self.client, lists, links)
            )

    def erased(self, tenant: str, kind: str, value: str) -> None:
        """Tell the other workers to forget an erased entity (raises StateUnavailable:
        the erasure is then not complete on every worker, and may be asked again)."""
        self.breaker.call(
            "change stream", lambda: self.changes.erased(self.client, tenant, kind, value)
        )

    def save_snapshot(self, lists: ListStore, links: LinkGraph) -> None:
        """The link graph into Redis, for workers that start later."""
        try:
            self.breaker.call(
                "link snapshot", lambda: self.changes.save_snapshot(self.client, lists, links)
            )
        except StateUnavailable as exc:
            log.warning("link graph not snapshotted in Redis: %s", exc)

    def close(self) -> None:
        self.client.close()


def _raise_errors(replies: list[Any]) -> None:
    for reply in replies:  # the store's pipeline does not raise on a command's error
        if isinstance(reply, Exception):
            raise reply


class Claiming:
    """A ``Rider`` (state/protocol.py): claim commands and the change stream's read."""

    def __init__(self, peers: Peers, keys: list[str], lists: ListStore, links: LinkGraph) -> None:
        self.peers, self.keys, self.lists, self.links = peers, keys, lists, links
        self.claimed: dict[str, Decision | bytes | None] | None = None  # None: unanswered

    def queue(self, pipe: Any) -> int:
        self.peers.claims.queue(pipe, self.keys)
        self.peers.changes.queue_read(pipe)
        return len(self.keys) + 1

    def answer(self, replies: list[Any]) -> None:
        _raise_errors(replies)
        peers = self.peers
        if peers.changes.fold_read(replies[-1], self.lists, self.links):
            peers.follow(self.lists, self.links)  # a long way behind: the rest now
        self.claimed = {
            key: peers.claims.taken(key, reply)
            for key, reply in zip(self.keys, replies[:-1], strict=True)
        }


class Publishing:
    """A ``Rider``: the journaled decisions into their claims, the batch's changes."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    def queue(self, pipe: Any) -> int:
        settles = self.peers.claims.queue_settle(pipe)
        self.peers.changes.queue_publish(pipe)
        return settles + len(self.peers.changes.unsent)

    def answer(self, replies: list[Any]) -> None:
        _raise_errors(replies)
        self.peers.claims.settled()
        self.peers.changes.published()
