"""From a training set (a table of ``shopguard dataset``) to a model and its card: pick
the validation rows, learn the category codes on the training rows only (as a scorer
will know them: a value first seen in validation is missing there too), fit, and record
how it was validated and the cost threshold chosen on validation."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.categories import LIMIT, fit_encoding
from shopguard.model.dataset import categorical, floats, inputs, matrix
from shopguard.model.metrics import cheapest_on_curve
from shopguard.model.split import holdout
from shopguard.model.train import MIN_ROUNDS, fit


class TrainOptions(msgspec.Struct, kw_only=True):
    label: str = "label"
    time: str = "time"
    features: list[str] | None = None  # default: every numeric and category column
    validation: str = "time"  # time, random or group (split.py)
    valid_share: float = 0.2
    group: str = "entity_account"  # the entity of group validation
    folds: int = 0
    class_weight: str = "auto"
    params: dict[str, Any] = {}
    rounds: int = 1000
    min_rounds: int = MIN_ROUNDS
    max_categories: int = LIMIT
    missed_fraud: float = 100.0
    blocked_honest: float = 5.0
    seed: int = 7


def train_table(table: pa.Table, options: TrainOptions) -> tuple[str, ModelCard]:
    """(LightGBM model text, its card)."""
    names = options.features or inputs(table)
    grouped = options.validation == "group"
    needed = {*names, options.label, options.time, *([options.group] if grouped else [])}
    missing = sorted(needed - set(table.column_names))
    if missing:
        raise ConfigError(f"no column(s) {missing}")
    y, when = floats(table.column(options.label)), floats(table.column(options.time))
    groups = np.asarray(table.column(options.group).to_pylist(), object) if grouped else None
    valid = holdout(options.validation, y, when, options.valid_share, groups, options.seed)
    cats = categorical(table, names)
    train_rows = pa.array(np.flatnonzero(~valid))
    encodings = {
        n: fit_encoding(table.column(n).take(train_rows).to_pylist(), options.max_categories)
        for n in cats
    }
    text, card = fit(
        matrix(table, names, encodings),
        y,
        when,
        names,
        f"{options.label} == 1",
        options.valid_share,
        options.rounds,
        options.params,
        valid,
        categorical=cats,
        weight=options.class_weight,
        folds=options.folds,
        scheme=options.validation,
        groups=groups,
        min_rounds=options.min_rounds,
    )
    card.categories = encodings
    cut, _ = cheapest_on_curve(
        card.curve, card.rows["valid_positive"], options.missed_fraud, options.blocked_honest
    )
    card.validation = {
        "scheme": options.validation,
        "share": options.valid_share,
        **({"group": options.group} if grouped else {}),
        **card.validation,
        "cost_threshold": {
            "score": round(cut, 6),
            "missed_fraud": options.missed_fraud,
            "blocked_honest": options.blocked_honest,
        },
    }
    if "type" in table.column_names:  # it scores what it learned from
        card.event_types = sorted(set(table.column("type").to_pylist()))
    return text, card
