"""Bringing an engine to what the ruleset trail names (champion, challenger, rollout), for
the server, its API and console, and the command line alike: ``bring`` at start, ``follow``
on a running server (compiling a ruleset takes up to a few tenths of a second, so it runs
in a worker thread while the event loop keeps answering). Changes go one at a time, so the
rules that run are always those the trail names last; a change another process made (the
command line) is picked up by ``follow``, which the server calls every second."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from shopguard.errors import ConfigError
from shopguard.rules.ruleset import RuleSet
from shopguard.rules.versions import (
    Lineup,
    Rollout,
    Rulesets,
    Standing,
    chosen,
    compile_running,
    running,
)

if TYPE_CHECKING:
    from shopguard.engine import Engine


class Refused(ConfigError):
    """The version a change would run fails the checks (it was stored before them)."""


async def checked(engine: Engine, text: str) -> RuleSet:
    """``text`` compiled against the running pack, off the loop; ConfigError names the rule."""
    return await run_in_threadpool(engine.pack.compile_rules, text, "check")


def target(store: Rulesets, action: str, number: int | None) -> int | None:
    """The version a change would start running (None: the pack's rules, or nothing new)."""
    standing = store.standing()
    if action in ("publish", "shadow", "rollout"):
        return number
    if action == "promote":
        return standing.challenger
    if action == "rollback":
        return standing.previous[-1] if standing.previous else None
    return None


def bring(engine: Engine, store: Rulesets) -> Lineup:
    """Run what the trail names now, compiling in this thread (start, command line)."""
    standing = store.standing()
    lineup = running(engine.pack, store)
    engine.use_rules(*lineup)
    engine.rules_standing = _named(standing)
    return lineup


def _named(standing: Standing) -> tuple[int | None, int | None, Rollout | None]:
    """What a standing runs: uploads and a change that names the same thing move nothing."""
    return standing.champion, standing.challenger, standing.rollout


def _lock(state: Any) -> asyncio.Lock:
    lock: asyncio.Lock | None = getattr(state, "rules_lock", None)
    if lock is None:  # made on the loop that serves: one per app
        lock = state.rules_lock = asyncio.Lock()
    return lock


async def follow(state: Any, engine: Engine, store: Rulesets) -> bool:
    """Catch up with a change recorded since the engine last synced (by any process);
    True when the rules were swapped."""
    if _named(store.standing()) == engine.rules_standing:
        return False
    async with _lock(state):
        if _named(store.standing()) == engine.rules_standing:
            return False
        await _run(engine, store)
        return True


async def change(
    state: Any,
    engine: Engine,
    store: Rulesets,
    action: str,
    actor: str,
    number: int | None,
    rollout: Rollout | None = None,
) -> Standing:
    """Check the version ``action`` starts running, record the change, run what the trail
    now names. Nothing is recorded when the version fails the checks (ConfigError)."""
    async with _lock(state):
        wanted = target(store, action, number)
        version = store.version(wanted) if wanted is not None else None
        if version is not None:
            try:
                await run_in_threadpool(engine.pack.compile_rules, version.text, version.name)
            except ConfigError as exc:
                raise Refused(f"version {version.number} fails the checks: {exc}") from None
        standing = store.change(action, actor, number, rollout)
        await _run(engine, store)
        return standing


async def _run(engine: Engine, store: Rulesets) -> None:
    standing = store.standing()
    lineup = await run_in_threadpool(compile_running, engine.pack, *chosen(store))
    engine.use_rules(*lineup)
    engine.rules_standing = _named(standing)
