"""Which rows validate a model: the newest share (time), a random share (stratified by
the label), or whole entities (group: an account, card or device is either all in
training or all in validation, so a model cannot score well by recognizing an entity it
trained on). The same schemes deal k folds for cross-validation: forward-chaining blocks
of time (each fold trains on the past only), stratified random folds, or stratified
groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from shopguard.errors import ConfigError

Scheme = Literal["time", "random", "group"]
SCHEMES: tuple[Scheme, ...] = ("time", "random", "group")
Bools = NDArray[np.bool_]


def holdout(
    scheme: str,
    y: NDArray[np.float64],
    when: NDArray[np.float64],
    share: float,
    groups: NDArray[np.object_] | None = None,
    seed: int = 7,
) -> Bools:
    """The validation rows (True) of ``scheme``, about ``share`` of them."""
    if not 0 < share < 1:
        raise ConfigError(f"the validation share must be between 0 and 1, not {share}")
    n = len(y)
    if scheme == "time":
        order = np.argsort(when, kind="mergesort")
        valid = np.zeros(n, dtype=bool)
        valid[order[int(n * (1 - share)) :]] = True
        return valid
    if scheme == "random":  # the share of each class, so validation keeps the fraud rate
        rng = np.random.default_rng(seed)
        valid = np.zeros(n, dtype=bool)
        for value in (0.0, 1.0):
            rows = rng.permutation(np.flatnonzero(y == value))
            valid[rows[: round(len(rows) * share)]] = True
        return valid
    if scheme == "group":
        ids = _group_ids(_need(groups), seed)
        rng = np.random.default_rng(seed)
        members = np.bincount(ids)
        order = rng.permutation(len(members))
        taken = np.cumsum(members[order]) <= share * n
        chosen = np.zeros(len(members), dtype=bool)
        chosen[order[taken]] = True
        return chosen[ids]
    raise ConfigError(f"unknown validation {scheme!r}: one of {', '.join(SCHEMES)}")


def folds(
    scheme: str,
    y: NDArray[np.float64],
    when: NDArray[np.float64],
    k: int,
    groups: NDArray[np.object_] | None = None,
    seed: int = 7,
) -> Iterator[tuple[Bools, Bools]]:
    """``k`` (train, valid) row masks."""
    if k < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, not {k}")
    n = len(y)
    if scheme == "time":  # k + 1 blocks in time order: fold i trains on blocks 0..i
        block = np.empty(n, dtype=np.int64)
        block[np.argsort(when, kind="mergesort")] = np.arange(n) * (k + 1) // n
        for i in range(k):
            yield block <= i, block == i + 1
        return
    if scheme == "random":
        fold = _stratified(y, k, seed)
    elif scheme == "group":
        ids = _group_ids(_need(groups), seed)
        # a group is positive when any of its rows is; positive and negative groups are
        # dealt in turn so that every fold gets its share of each
        positive = np.zeros(ids.max() + 1, dtype=bool)
        positive[ids[y == 1]] = True
        fold = _stratified(positive.astype(np.float64), k, seed)[ids]
    else:
        raise ConfigError(f"unknown validation {scheme!r}: one of {', '.join(SCHEMES)}")
    for i in range(k):
        yield fold != i, fold == i


def _stratified(y: NDArray[np.float64], k: int, seed: int) -> NDArray[np.int64]:
    """A fold number per row: each class shuffled and dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for value in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(y == value))
        fold[rows] = np.arange(len(rows)) % k
    return fold


def _group_ids(groups: NDArray[np.object_], seed: int) -> NDArray[np.int64]:
    """A dense id per distinct group; a row without one is a group of its own (it shares
    nothing to leak)."""
    keys = np.asarray([g if g is not None else f"\0row{i}" for i, g in enumerate(groups)])
    _, ids = np.unique(keys, return_inverse=True)
    return np.asarray(ids, dtype=np.int64)


def _need(groups: NDArray[np.object_] | None) -> NDArray[np.object_]:
    if groups is None:
        raise ConfigError("grouped validation needs a group column (e.g. entity_device)")
    return groups
