"""Validation rows and folds by time, at random (stratified) and by entity (grouped)."""

from __future__ import annotations

import numpy as np
import pytest

from shopguard.errors import ConfigError
from shopguard.model.split import folds, holdout


def _data(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = (rng.random(n) < 0.1).astype(float)
    when = rng.permutation(n).astype(float)
    devices = np.array([f"d{i}" for i in rng.integers(0, 150, n)], dtype=object)
    devices[::50] = None  # rows without the entity: each a group of its own
    return y, when, devices


def test_time_validates_on_the_newest_share() -> None:
    y, when, _ = _data()
    valid = holdout("time", y, when, 0.25)
    assert valid.sum() == 500 and when[valid].min() > when[~valid].max()


def test_random_keeps_the_fraud_rate_in_validation() -> None:
    y, when, _ = _data()
    valid = holdout("random", y, when, 0.2)
    assert valid.sum() == pytest.approx(400, abs=2)
    assert y[valid].mean() == pytest.approx(y.mean(), abs=0.005)
    assert when[valid].min() < when[~valid].max()  # not the newest: drawn at random


def test_group_never_puts_one_entity_on_both_sides() -> None:
    y, when, devices = _data()
    valid = holdout("group", y, when, 0.2, devices)
    assert 0.1 < valid.mean() <= 0.2
    seen = {d for d in devices[~valid] if d is not None}
    assert not seen & {d for d in devices[valid] if d is not None}
    with pytest.raises(ConfigError, match="group column"):
        holdout("group", y, when, 0.2)
    with pytest.raises(ConfigError, match="unknown validation 'devices'"):
        holdout("devices", y, when, 0.2)


def test_folds_per_scheme() -> None:
    y, when, devices = _data()
    by_time = list(folds("time", y, when, 4))
    assert len(by_time) == 4
    for train, valid in by_time:  # forward chaining: the past trains, the next block validates
        assert when[train].max() < when[valid].min() and not (train & valid).any()
    assert [int(v.sum()) for _, v in by_time] == [400, 400, 400, 400]
    random = list(folds("random", y, when, 5))
    assert sum(v.astype(int) for _, v in random).tolist() == [1] * len(y)  # each row once
    assert all(abs(y[v].sum() - y.sum() / 5) <= 1 for _, v in random)  # stratified
    for train, valid in folds("group", y, when, 5, devices):
        inside = {d for d in devices[valid] if d is not None}
        assert not inside & {d for d in devices[train] if d is not None}
    with pytest.raises(ConfigError, match="at least 2 folds"):
        list(folds("random", y, when, 1))
