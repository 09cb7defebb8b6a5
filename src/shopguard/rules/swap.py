"""Changing the rules of a running server (API and console alike): compiling a ruleset
takes up to a few tenths of a second, so it runs in a worker thread while the event loop
keeps answering; changes go one at a time, so the rules that run are always those the
trail names last."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from shopguard.errors import ConfigError
from shopguard.rules.ruleset import RuleSet
from shopguard.rules.versions import RulesetStore, Standing, chosen, compile_running

if TYPE_CHECKING:
    from shopguard.engine import Engine


class Refused(ConfigError):
    """The version a change would run fails the checks (it was stored before them)."""


async def checked(engine: Engine, text: str) -> RuleSet:
    """``text`` compiled against the running pack, off the loop; ConfigError names the rule."""
    return await run_in_threadpool(engine.pack.compile_rules, text, "check")


def target(store: RulesetStore, action: str, number: int | None) -> int | None:
    """The version a change would start running (None: the pack's rules, or nothing new)."""
    standing = store.standing()
    if action in ("publish", "shadow"):
        return number
    if action == "promote":
        return standing.challenger
    if action == "rollback":
        return standing.previous[-1] if standing.previous else None
    return None


async def change(
    state: Any, engine: Engine, store: RulesetStore, action: str, actor: str, number: int | None
) -> Standing:
    """Check the version ``action`` starts running, record the change, run what the trail
    now names. Nothing is recorded when the version fails the checks (ConfigError)."""
    lock: asyncio.Lock | None = getattr(state, "rules_lock", None)
    if lock is None:  # made on the loop that serves: one per app
        lock = state.rules_lock = asyncio.Lock()
    async with lock:
        wanted = target(store, action, number)
        version = store.version(wanted) if wanted is not None else None
        if version is not None:
            try:
                await run_in_threadpool(engine.pack.compile_rules, version.text, version.name)
            except ConfigError as exc:
                raise Refused(f"version {version.number} fails the checks: {exc}") from None
        standing = store.change(action, actor, number)
        await _run(engine, store)
        return standing


async def _run(engine: Engine, store: RulesetStore) -> None:
    champion, challenger = chosen(store)
    rules = await run_in_threadpool(compile_running, engine.pack, champion, challenger)
    engine.use_rules(*rules)
